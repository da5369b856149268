// Package refresh wires the refresh function: one run of the refresh job per scheduled event,
// over the token table's refresh-due index, with the LWA client of package lwaclient.
package refresh

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/sellerauth/sellerauth/internal/dynamo"
	"github.com/sellerauth/sellerauth/internal/fn"
	"github.com/sellerauth/sellerauth/internal/fn/lwaclient"
	refreshjob "github.com/sellerauth/sellerauth/internal/refresh"
)

// refreshConfig is the environment of the refresh function.
type refreshConfig struct {
	TokenTable string
	LWA        lwaclient.Config
	Policy     refreshjob.Policy
}

func loadRefreshConfig(getenv fn.Getenv) (refreshConfig, error) {
	var errs []error
	c := refreshConfig{TokenTable: getenv("TOKEN_TABLE_NAME")}
	if c.TokenTable == "" {
		errs = append(errs, errors.New("TOKEN_TABLE_NAME is required"))
	}
	var err error
	c.LWA, err = lwaclient.Load(getenv)
	errs = append(errs, err)
	number := func(name string, def, lo, hi int) int {
		v := getenv(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			errs = append(errs, fmt.Errorf("%s must be a whole number from %d to %d, not %q", name, lo, hi, v))
			return def
		}
		return n
	}
	// The margin stays below the invalid_grant retry delay (10 min) and the refresh lead (20 min),
	// or a run would take again what it just deferred or refreshed; the reserve stays far below
	// the function's timeout, or a run would stop before it starts.
	c.Policy = refreshjob.Policy{
		Concurrency:     number("REFRESH_CONCURRENCY", refreshjob.DefaultConcurrency, 1, 256),
		Margin:          time.Duration(number("REFRESH_MARGIN_SECONDS", int(refreshjob.DefaultMargin/time.Second), 60, 540)) * time.Second,
		Reserve:         time.Duration(number("REFRESH_RESERVE_SECONDS", int(refreshjob.DefaultReserve/time.Second), 1, 60)) * time.Second,
		ConfirmAttempts: number("INVALID_GRANT_CONFIRMATIONS", refreshjob.DefaultConfirmAttempts, 1, 100),
		ConfirmSpan:     time.Duration(number("INVALID_GRANT_CONFIRM_SECONDS", int(refreshjob.DefaultConfirmSpan/time.Second), 0, 7*86400)) * time.Second,
		DeadTTL:         time.Duration(number("REAUTHORIZATION_TTL_DAYS", int(refreshjob.DefaultDeadTTL/(24*time.Hour)), 1, 365)) * 24 * time.Hour,
		// The brake on mass revocation: a run that would mark at least MASS_REVOCATION_MIN sellers
		// while at least MASS_REVOCATION_SHARE percent of LWA's answers are invalid_grant marks
		// nobody. A real wave larger than that is let through by raising the minimum for a run.
		MassRevocationMin:   number("MASS_REVOCATION_MIN", refreshjob.DefaultMassRevocationMin, 1, 1_000_000),
		MassRevocationShare: number("MASS_REVOCATION_SHARE", refreshjob.DefaultMassRevocationShare, 1, 100),
	}
	switch v := getenv("REFRESH_CLAIM"); v {
	case "true":
		c.Policy.Claim = true
	case "", "false":
	default:
		errs = append(errs, fmt.Errorf("REFRESH_CLAIM must be true or false, not %q", v))
	}
	if c.Policy.ConfirmSpan == 0 {
		c.Policy.ConfirmSpan = time.Nanosecond // 0 means "no minimum span", not the default
	}
	return c, errors.Join(errs...)
}

// Handler is the refresh function's handler: one run per scheduled event.
type Handler struct {
	Job *refreshjob.Job
}

// Handle runs the job. The event (EventBridge Scheduler's payload) carries nothing the run needs.
// It returns an error only when the run stopped on invalid_client or could not read the due
// index, so that the invocation shows as failed; the alarms watch the metrics.
func (h *Handler) Handle(ctx context.Context, _ json.RawMessage) (Result, error) {
	s, err := h.Job.Run(ctx)
	res := Result{
		Due: s.Due, Refreshed: s.Refreshed, Failed: s.Failed, Revoked: s.Revoked,
		LeftForNextRun: s.Left, MassInvalidGrant: s.MassInvalidGrant == 1, HeldBack: s.HeldBack,
		DurationMs: s.Duration.Milliseconds(),
	}
	if err != nil {
		return res, fmt.Errorf("refresh run: %w", err)
	}
	return res, nil
}

// Result is the invocation's answer (seen in a synchronous invoke, e.g. sam local invoke).
type Result struct {
	Due            int64 `json:"due"`
	Refreshed      int64 `json:"refreshed"`
	Failed         int64 `json:"failed"`
	Revoked        int64 `json:"revoked"`
	LeftForNextRun int64 `json:"left_for_next_run"`
	// MassInvalidGrant: the brake held HeldBack sellers back from being marked.
	MassInvalidGrant bool  `json:"mass_invalid_grant"`
	HeldBack         int64 `json:"held_back"`
	DurationMs       int64 `json:"duration_ms"`
}

// New wires the refresh function. Nothing talks to the network here: the secret is fetched
// on the first refreshjob.
func New(r fn.Runtime) (*Handler, error) {
	c, err := loadRefreshConfig(r.Getenv)
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	// Up to Concurrency claims and Concurrency writes run at once: keep that many connections to
	// DynamoDB alive instead of the SDK's 10, or every run pays new TLS handshakes.
	db := dynamodb.NewFromConfig(r.AWS, func(o *dynamodb.Options) {
		if b, ok := o.HTTPClient.(*awshttp.BuildableClient); ok {
			o.HTTPClient = b.WithTransportOptions(func(tr *http.Transport) {
				tr.MaxIdleConnsPerHost = 2 * c.Policy.Concurrency
			})
		}
	})
	client := lwaclient.New(r, c.LWA)
	if tr, ok := client.HTTPClient.Transport.(*http.Transport); ok && tr.MaxIdleConnsPerHost < c.Policy.Concurrency {
		// Keep one idle connection per worker, so that keep-alive holds at any concurrency.
		tr.MaxIdleConnsPerHost = c.Policy.Concurrency
	}
	job := &refreshjob.Job{
		Store:     &dynamo.TokenStore{Client: db, Table: c.TokenTable, Now: r.Clock()},
		Refresher: client,
		Policy:    c.Policy,
		Now:       r.Clock(),
		Log:       r.Log,
		Metrics:   os.Stdout,
		Retries:   client.Retries,
	}
	return &Handler{Job: job}, nil
}
