package lwasecret_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sellerauth/sellerauth/internal/awstest"
	"github.com/sellerauth/sellerauth/internal/flight"
	"github.com/sellerauth/sellerauth/internal/lwa"
	"github.com/sellerauth/sellerauth/internal/lwasecret"
)

func TestMain(m *testing.M) { os.Exit(awstest.Main(m)) }

const getSecretValue = "SecretsManager.GetSecretValue"

var (
	first  = lwa.Credentials{ClientID: "amzn1.application-oa2-client.first", ClientSecret: "amzn1.oa2-cs.v1.first-secret"}
	second = lwa.Credentials{ClientID: "amzn1.application-oa2-client.second", ClientSecret: "amzn1.oa2-cs.v1.second-secret"}
)

func secretJSON(c lwa.Credentials) string {
	b, _ := json.Marshal(map[string]string{"client_id": c.ClientID, "client_secret": c.ClientSecret})
	return string(b)
}

// fixture is a secret on the shared moto and a counted Secrets Manager client.
type fixture struct {
	env      *awstest.Env
	secretID string
	client   *secretsmanager.Client
	calls    *awstest.CallCounter
}

func newFixture(t *testing.T, value string) *fixture {
	t.Helper()
	env := awstest.Start(t)
	cfg := env.Config.Copy()
	calls := awstest.CountCalls(&cfg)
	return &fixture{env: env, secretID: env.CreateSecret(t, value), client: secretsmanager.NewFromConfig(cfg), calls: calls}
}

func TestNewMakesNoCall(t *testing.T) {
	t.Parallel()
	f := newFixture(t, secretJSON(first))
	lwasecret.New(f.client, f.secretID)
	if n := f.calls.Total(); n != 0 {
		t.Fatalf("New made %d calls", n)
	}
}

func TestCredentialsAreFetchedOnceAndCached(t *testing.T) {
	t.Parallel()
	f := newFixture(t, secretJSON(first))
	src := lwasecret.New(f.client, f.secretID)
	for range 10 {
		got, err := src.Credentials(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if got != first {
			t.Fatal("wrong credentials")
		}
	}
	if n := f.calls.Count(getSecretValue); n != 1 || f.calls.Total() != 1 {
		t.Fatalf("calls = %v, want one GetSecretValue", f.calls.Counts())
	}
}

func TestConcurrentFirstCallsShareOneFetch(t *testing.T) {
	t.Parallel()
	f := newFixture(t, secretJSON(first))
	src := lwasecret.New(f.client, f.secretID)
	results := make([]lwa.Credentials, 50)
	errs := make([]error, 50)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			<-start
			results[i], errs[i] = src.Credentials(t.Context())
		})
	}
	close(start)
	wg.Wait()
	for i := range results {
		if errs[i] != nil || results[i] != first {
			t.Fatalf("caller %d: err = %v, right credentials = %v", i, errs[i], results[i] == first)
		}
	}
	if n := f.calls.Total(); n != 1 {
		t.Fatalf("calls = %v, want one GetSecretValue", f.calls.Counts())
	}
}

func TestRefetchPicksUpARotation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, secretJSON(first))
	src := lwasecret.New(f.client, f.secretID)
	ctx := t.Context()
	if got, err := src.Credentials(ctx); err != nil || got != first {
		t.Fatalf("Credentials: %v", err)
	}
	f.env.PutSecret(t, f.secretID, secretJSON(second))
	f.calls.Reset()

	if got, _ := src.Credentials(ctx); got != first {
		t.Error("Credentials did not serve the cache after a rotation")
	}
	if n := f.calls.Total(); n != 0 {
		t.Errorf("Credentials made %d calls", n)
	}

	got, err := src.Refetch(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	if got != second {
		t.Error("Refetch did not return the rotated credentials")
	}
	if n := f.calls.Count(getSecretValue); n != 1 {
		t.Errorf("Refetch made %v, want one GetSecretValue", f.calls.Counts())
	}

	// Callers still holding the old value get the new one from the cache, without a call.
	f.calls.Reset()
	for range 3 {
		if got, err := src.Refetch(ctx, first); err != nil || got != second {
			t.Errorf("Refetch with the old value: err = %v", err)
		}
		if got, err := src.Credentials(ctx); err != nil || got != second {
			t.Errorf("Credentials after the refetch: err = %v", err)
		}
	}
	if n := f.calls.Total(); n != 0 {
		t.Errorf("made %v, want no calls", f.calls.Counts())
	}
}

func TestConcurrentRefetchesShareOneFetch(t *testing.T) {
	t.Parallel()
	f := newFixture(t, secretJSON(first))
	src := lwasecret.New(f.client, f.secretID)
	if _, err := src.Credentials(t.Context()); err != nil {
		t.Fatal(err)
	}
	f.env.PutSecret(t, f.secretID, secretJSON(second))
	f.calls.Reset()
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			<-start
			if got, err := src.Refetch(t.Context(), first); err != nil || got != second {
				t.Errorf("Refetch: err = %v, rotated = %v", err, got == second)
			}
		})
	}
	close(start)
	wg.Wait()
	if n := f.calls.Total(); n != 1 {
		t.Errorf("20 refetches made %v, want one GetSecretValue", f.calls.Counts())
	}
}

// With nothing newer stored, Refetch returns the same credentials: LWA's rejection was not
// about a rotation, and the caller must not loop.
func TestRefetchWithoutRotationReturnsTheSameCredentials(t *testing.T) {
	t.Parallel()
	f := newFixture(t, secretJSON(first))
	src := lwasecret.New(f.client, f.secretID)
	got, err := src.Refetch(t.Context(), lwa.Credentials{})
	if err != nil || got != first {
		t.Fatalf("Refetch before any fetch: err = %v", err)
	}
	if got, err := src.Refetch(t.Context(), first); err != nil || got != first {
		t.Fatalf("Refetch: err = %v", err)
	}
	if n := f.calls.Total(); n != 2 {
		t.Errorf("calls = %v, want two GetSecretValue", f.calls.Counts())
	}
}

func TestInvalidSecrets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		value  string
		leak   string // a fragment of the value that must not reach the error
		reason string
	}{
		{"template placeholder", `{"client_id":"","client_secret":""}`, "", "client_id and client_secret are empty or missing"},
		{"missing secret", `{"client_id":"amzn1.application-oa2-client.LEAK1"}`, "LEAK1", "client_secret is empty or missing"},
		{"blank client ID", `{"client_id":"  ","client_secret":"LEAK2-secret"}`, "LEAK2", "client_id is empty or missing"},
		{"malformed JSON", `{"client_id":"amzn1.LEAK3","client_secret":"LEAK3-secret"`, "LEAK3", "not a JSON object"},
		{"bare value", `LEAK4-just-the-secret`, "LEAK4", "not a JSON object"},
		{"JSON string", `"LEAK5-secret"`, "LEAK5", "not a JSON object"},
		{"wrong types", `{"client_id":["LEAK6"],"client_secret":7}`, "LEAK6", "not a JSON object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tc.value)
			src := lwasecret.New(f.client, f.secretID)
			_, err := src.Credentials(t.Context())
			if !errors.Is(err, lwasecret.ErrInvalidSecret) {
				t.Fatalf("err = %v, want ErrInvalidSecret", err)
			}
			msg := err.Error()
			for _, want := range []string{f.secretID, tc.reason, `{"client_id":`, `"client_secret":`} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not contain %q", msg, want)
				}
			}
			if tc.leak != "" && strings.Contains(msg, tc.leak) {
				t.Errorf("error %q leaks the secret", msg)
			}
		})
	}
}

func TestFailedFetchIsNotCached(t *testing.T) {
	t.Parallel()
	f := newFixture(t, `{"client_id":"","client_secret":""}`)
	src := lwasecret.New(f.client, f.secretID)
	if _, err := src.Credentials(t.Context()); !errors.Is(err, lwasecret.ErrInvalidSecret) {
		t.Fatalf("err = %v", err)
	}
	f.env.PutSecret(t, f.secretID, secretJSON(first))
	got, err := src.Credentials(t.Context())
	if err != nil || got != first {
		t.Fatalf("after the operator filled the secret: err = %v", err)
	}
	if n := f.calls.Total(); n != 2 {
		t.Errorf("calls = %v, want two GetSecretValue", f.calls.Counts())
	}
}

func TestFailedRefetchKeepsTheCache(t *testing.T) {
	t.Parallel()
	f := newFixture(t, secretJSON(first))
	src := lwasecret.New(f.client, f.secretID)
	if _, err := src.Credentials(t.Context()); err != nil {
		t.Fatal(err)
	}
	f.env.PutSecret(t, f.secretID, `{"client_id":`)
	if _, err := src.Refetch(t.Context(), first); !errors.Is(err, lwasecret.ErrInvalidSecret) {
		t.Fatalf("Refetch: err = %v", err)
	}
	if got, err := src.Credentials(t.Context()); err != nil || got != first {
		t.Fatalf("Credentials after a failed refetch: err = %v", err)
	}
}

func TestSecretsManagerFailures(t *testing.T) {
	t.Parallel()
	env := awstest.Start(t)
	tests := []struct {
		name     string
		client   lwasecret.SecretsAPI
		secretID string
	}{
		{"unreachable", secretsmanager.NewFromConfig(env.Unreachable()), "arn:aws:secretsmanager:us-east-1:123456789012:secret:lwa"},
		{"no such secret", env.SecretsManager, "sellerauth-no-such-secret"},
		{"no secret ID", env.SecretsManager, ""},
	}
	for _, tc := range tests {
		src := lwasecret.New(tc.client, tc.secretID)
		_, err := src.Credentials(t.Context())
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if errors.Is(err, lwasecret.ErrInvalidSecret) {
			t.Errorf("%s: %v blames the secret's content", tc.name, err)
		}
		if !strings.Contains(err.Error(), tc.secretID) {
			t.Errorf("%s: %v does not name the secret", tc.name, err)
		}
	}
}

// gatedAPI holds every GetSecretValue until the gate opens or the caller gives up.
type gatedAPI struct {
	lwasecret.SecretsAPI
	entered chan struct{}
	gate    chan struct{}
}

func (g *gatedAPI) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	g.entered <- struct{}{}
	select {
	case <-g.gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return g.SecretsAPI.GetSecretValue(ctx, in, opts...)
}

// A caller whose invocation times out during the shared fetch must not hand its timeout to the
// callers that were waiting on that fetch with time to spare.
func TestAbandonedFetchIsRetriedByWaiters(t *testing.T) {
	t.Parallel()
	f := newFixture(t, secretJSON(first))
	api := &gatedAPI{SecretsAPI: f.client, entered: make(chan struct{}, 2), gate: make(chan struct{})}
	src := lwasecret.New(api, f.secretID)

	waiting := make(chan struct{}, 1)
	lwasecret.OnWait(src, func() { waiting <- struct{}{} })

	leaderCtx, cancel := context.WithCancel(t.Context())
	leaderErr := make(chan error, 1)
	go func() { _, err := src.Credentials(leaderCtx); leaderErr <- err }()
	<-api.entered

	waiter := make(chan error, 1)
	go func() {
		got, err := src.Credentials(t.Context())
		if err == nil && got != first {
			err = errors.New("wrong credentials")
		}
		waiter <- err
	}()
	<-waiting // the waiter joined the leader's fetch
	cancel()
	if err := <-leaderErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("leader: err = %v, want context.Canceled", err)
	}
	<-api.entered // the waiter fetches for itself
	close(api.gate)
	if err := <-waiter; err != nil {
		t.Fatalf("waiter: %v", err)
	}
}

func TestWaiterHonoursItsOwnContext(t *testing.T) {
	t.Parallel()
	f := newFixture(t, secretJSON(first))
	api := &gatedAPI{SecretsAPI: f.client, entered: make(chan struct{}, 1), gate: make(chan struct{})}
	src := lwasecret.New(api, f.secretID)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	lwasecret.OnWait(src, cancel) // the waiter's invocation ends while it waits
	leader := make(chan error, 1)
	go func() { _, err := src.Credentials(t.Context()); leader <- err }()
	<-api.entered

	_, err := src.Credentials(ctx)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), f.secretID) {
		t.Errorf("waiter: err = %v, want its own context's, naming the secret", err)
	}
	close(api.gate)
	if err := <-leader; err != nil {
		t.Fatalf("leader: %v", err)
	}
}

// panickingAPI panics in the first GetSecretValue, once the gate opens.
type panickingAPI struct {
	lwasecret.SecretsAPI
	entered chan struct{}
	gate    chan struct{}
	calls   atomic.Int64
}

func (p *panickingAPI) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	if p.calls.Add(1) == 1 {
		p.entered <- struct{}{}
		<-p.gate
		panic("the SDK's bug")
	}
	return p.SecretsAPI.GetSecretValue(ctx, in, opts...)
}

// A fetch that panics must not leave the callers waiting for it hanging, nor the next caller
// waiting for a fetch that will never end.
func TestPanickingFetchReleasesWaiters(t *testing.T) {
	t.Parallel()
	f := newFixture(t, secretJSON(first))
	api := &panickingAPI{SecretsAPI: f.client, entered: make(chan struct{}, 1), gate: make(chan struct{})}
	src := lwasecret.New(api, f.secretID)
	waiting := make(chan struct{}, 1)
	lwasecret.OnWait(src, func() { waiting <- struct{}{} })

	leaderPanic := make(chan any, 1)
	go func() {
		defer func() { leaderPanic <- recover() }()
		_, _ = src.Credentials(t.Context())
	}()
	<-api.entered
	waiter := make(chan error, 1)
	go func() { _, err := src.Credentials(t.Context()); waiter <- err }()
	<-waiting
	close(api.gate)

	var panicked *flight.PanicError
	if p, ok := (<-leaderPanic).(error); !ok || !errors.As(p, &panicked) {
		t.Errorf("the caller whose fetch panicked recovered %v, want the panic", p)
	}
	if err := <-waiter; !errors.As(err, &panicked) || !strings.Contains(err.Error(), f.secretID) {
		t.Errorf("waiter: err = %v, want the panic, naming the secret", err)
	}
	if got, err := src.Credentials(t.Context()); err != nil || got != first {
		t.Fatalf("after the panic: err = %v", err)
	}
	if n := api.calls.Load(); n != 2 {
		t.Errorf("%d GetSecretValue, want the panicking one and one more", n)
	}
}
