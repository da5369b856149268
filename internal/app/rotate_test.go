package app_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sellerauth/sellerauth/internal/app/rotateapp"
)

// sqsEvent loads testdata/sqs-new-secret.json (a new-secret and an expiry notification, shaped as
// Amazon's rotation guide shows them, in a real SQS event) with this app's client ID and newSecret.
func sqsEvent(t *testing.T, clientID, newSecret string) events.SQSEvent {
	t.Helper()
	b, err := os.ReadFile("testdata/sqs-new-secret.json")
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.ReplaceAll(b, []byte("CLIENT_ID"), []byte(clientID))
	b = bytes.ReplaceAll(b, []byte("NEW_CLIENT_SECRET"), []byte(newSecret))
	var ev events.SQSEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

// TestRotationNotificationKeepsCallbacksWorking: Amazon rotates the client secret and retires the
// old one; the rotate-secret function stores the new one from the notification, and the next
// callback works without an operator.
func TestRotationNotificationKeepsCallbacksWorking(t *testing.T) {
	s := newStack(t)
	// The operator keeps a note in the secret: the rotation must leave it.
	s.aws.PutSecret(t, s.secretID, `{"client_id":"`+clientID+`","client_secret":"`+clientSecret+`","note":"rotated by sellerauth"}`)
	state, _ := s.startWebsite("")
	if res := s.callbackWith(state, s.consent(), stateCookie(state)); res.StatusCode != http.StatusOK {
		t.Fatalf("warm-up: %d", res.StatusCode)
	}

	const newSecret = "amzn1.oa2-cs.v1.rotated-by-notification-0123456789"
	remember(newSecret)
	s.amazon.RotateSecret(newSecret)
	s.amazon.RetireOldSecret()

	var logBuf, metrics bytes.Buffer
	rt := s.runtime(s.aws.Config)
	rt.Log = slog.New(slog.NewJSONHandler(io.MultiWriter(&logBuf, logs), nil))
	h, err := rotateapp.NewRotate(rt)
	if err != nil {
		t.Fatal(err)
	}
	h.Rotation.Metrics = &metrics
	ev := sqsEvent(t, clientID, newSecret)
	for range 2 { // SQS delivers at least once: the second delivery changes nothing
		res, err := h.Handle(t.Context(), ev)
		if err != nil || len(res.BatchItemFailures) != 0 {
			t.Fatalf("handle: %+v, %v", res, err)
		}
	}
	out, err := secretsmanager.NewFromConfig(s.aws.Config).GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.secretID)})
	if err != nil {
		t.Fatal(err)
	}
	var stored map[string]string
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &stored); err != nil {
		t.Fatal(err)
	}
	if stored["client_secret"] != newSecret || stored["client_id"] != clientID || stored["note"] != "rotated by sellerauth" {
		t.Errorf("secret after rotation: new secret %v, client_id kept %v, other fields kept %v",
			stored["client_secret"] == newSecret, stored["client_id"] == clientID, stored["note"] != "")
	}
	if n := strings.Count(metrics.String(), `"ClientSecretStored":1`); n != 1 {
		t.Errorf("%d ClientSecretStored metrics for one rotation delivered twice", n)
	}
	if n := strings.Count(metrics.String(), `"ClientSecretExpiryWarning":1`); n != 2 {
		t.Errorf("%d ClientSecretExpiryWarning metrics for two expiry warnings", n)
	}
	if strings.Contains(logBuf.String(), newSecret) || strings.Contains(metrics.String(), newSecret) {
		t.Error("the new client secret reached the log")
	}

	// The callback still holds the retired secret; LWA refuses it once, the refetch finds the new one.
	state, _ = s.startWebsite("")
	if res := s.callbackWith(state, s.consent(), stateCookie(state)); res.StatusCode != http.StatusOK {
		t.Fatalf("callback after rotation: %d %s", res.StatusCode, res.Body)
	}
}

// TestRotationRefusesOtherClientsAndMalformedMessages: a new secret for another LWA client is not
// stored (it would break every call of this app), and a message that is not a notification is
// reported for redelivery, and so for the dead-letter queue, without failing its batch-mates.
func TestRotationRefusesOtherClientsAndMalformedMessages(t *testing.T) {
	s := newStack(t)
	h, err := rotateapp.NewRotate(s.runtime(s.aws.Config))
	if err != nil {
		t.Fatal(err)
	}
	ev := sqsEvent(t, "amzn1.application-oa2-client.another-app", "amzn1.oa2-cs.v1.another-apps-secret")
	ev.Records = append(ev.Records, events.SQSMessage{MessageId: "broken", Body: `{"notificationType":"APPLICATION_OAUTH_CLIENT_NEW_SECRET","payload":{}}`})
	ev.Records = append(ev.Records, events.SQSMessage{MessageId: "not-json", Body: `Atza|not a notification`})
	res, err := h.Handle(t.Context(), ev)
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, f := range res.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	if strings.Join(failed, ",") != "broken,not-json" {
		t.Errorf("batch item failures %v, want the two malformed messages only", failed)
	}
	out, err := secretsmanager.NewFromConfig(s.aws.Config).GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.secretID)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.SecretString) != secretJSON(clientID, clientSecret) {
		t.Error("another client's secret was stored")
	}
}
