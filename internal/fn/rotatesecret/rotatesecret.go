// Package rotatesecret wires the rotate-secret function (RotateSecretFunction): SP-API's
// notifications of a new LWA client secret in, the secret in Secrets Manager rotated. It links
// Secrets Manager and nothing of the authorization flow or the token table, so its cold start
// pays for no client it does not use.
package rotatesecret

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sellerauth/sellerauth/internal/fn"
	"github.com/sellerauth/sellerauth/internal/lwa"
	"github.com/sellerauth/sellerauth/internal/lwasecret"
	"github.com/sellerauth/sellerauth/internal/rotation"
)

// Handler is the rotate-secret function's handler: one SQS batch of SP-API notifications.
type Handler struct {
	Rotation *rotation.Handler
}

// New wires the rotate-secret function. Nothing talks to the network here.
func New(r fn.Runtime) (*Handler, error) {
	secretID := r.Getenv("LWA_CREDENTIALS_SECRET_ID")
	if secretID == "" {
		return nil, errors.New("configuration: LWA_CREDENTIALS_SECRET_ID is required")
	}
	tokenURL, err := lwa.ParseTokenURL(r.Getenv("LWA_TOKEN_URL"))
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	// The new secret is checked with a grantless token request before it is stored; the client
	// gets the credentials to check with each call, so it has no source of its own.
	verify := lwa.New(tokenURL, nil)
	if r.LWAHTTPClient != nil {
		verify.HTTPClient = r.LWAHTTPClient
	}
	return &Handler{Rotation: &rotation.Handler{
		Secrets: lwasecret.NewWriter(secretsmanager.NewFromConfig(r.AWS), secretID),
		Verify:  verify,
		Log:     r.Log,
		Metrics: os.Stdout,
		Now:     r.Clock(),
	}}, nil
}

// Handle acts on each message and reports the ones to deliver again (the event source mapping
// has ReportBatchItemFailures), so one failed message does not repeat the whole batch; after
// the queue's maxReceiveCount a message goes to the dead-letter queue, which raises an alarm.
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var res events.SQSEventResponse
	for _, m := range ev.Records {
		if _, err := h.Rotation.Handle(ctx, m.Body); err != nil {
			h.Rotation.Log.ErrorContext(ctx, "secret-rotation notification not handled; it will be delivered again",
				"message_id", m.MessageId, "error", err)
			res.BatchItemFailures = append(res.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	if len(res.BatchItemFailures) == len(ev.Records) && len(ev.Records) > 0 {
		return res, fmt.Errorf("none of %d secret-rotation notifications handled", len(ev.Records))
	}
	return res, nil
}
