package dynamo_test

import (
	"errors"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sellerauth/sellerauth/internal/amazon"
	"github.com/sellerauth/sellerauth/internal/authflow"
)

var (
	created = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	expires = created.Add(15 * time.Minute)
)

func pending(key string) authflow.PendingState {
	return authflow.PendingState{
		Key:         key,
		Marketplace: "DE",
		Region:      amazon.RegionEU,
		AccountType: amazon.Vendor,
		Flow:        authflow.FlowAppstore,
		CreatedAt:   created,
		ExpiresAt:   expires,
	}
}

func stateKey(key string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": s(key)}
}

func TestStatePutGetConsume(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	want := pending("k1")
	if err := f.states.Put(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := f.states.Get(ctx, "k1", created.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("Get = %+v, want %+v", got, want)
	}
	got, err = f.states.Consume(ctx, "k1", created.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("Consume = %+v, want %+v", got, want)
	}
	if _, err := f.states.Consume(ctx, "k1", created.Add(time.Minute)); !errors.Is(err, authflow.ErrStateNotFound) {
		t.Errorf("second Consume: err = %v, want ErrStateNotFound", err)
	}
	if _, err := f.states.Get(ctx, "k1", created.Add(time.Minute)); !errors.Is(err, authflow.ErrStateNotFound) {
		t.Errorf("Get after Consume: err = %v, want ErrStateNotFound", err)
	}
}

func TestStateUnknownKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, key := range []string{"never-stored", ""} {
		if _, err := f.states.Get(t.Context(), key, created); !errors.Is(err, authflow.ErrStateNotFound) {
			t.Errorf("Get(%q): err = %v, want ErrStateNotFound", key, err)
		}
		if _, err := f.states.Consume(t.Context(), key, created); !errors.Is(err, authflow.ErrStateNotFound) {
			t.Errorf("Consume(%q): err = %v, want ErrStateNotFound", key, err)
		}
	}
}

func TestStatePutExistingKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if err := f.states.Put(t.Context(), pending("k")); err != nil {
		t.Fatal(err)
	}
	other := pending("k")
	other.Marketplace = "US"
	if err := f.states.Put(t.Context(), other); !errors.Is(err, authflow.ErrStateExists) {
		t.Fatalf("err = %v, want ErrStateExists", err)
	}
	if got := shape(f.raw(t, f.tables.State, stateKey("k")))["marketplace"]; got != "S:DE" {
		t.Errorf("the first state was overwritten: marketplace = %s", got)
	}
}

// TTL deletes days late, so an expired item is still in the table: it must read as absent and
// must not be consumable, and Consume must say why.
func TestStateExpiredButStillStored(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		now  time.Time
	}{
		{"at the expiry second", expires},
		{"after expiry", expires.Add(time.Hour)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			ctx := t.Context()
			if err := f.states.Put(ctx, pending("k")); err != nil {
				t.Fatal(err)
			}
			if _, err := f.states.Get(ctx, "k", tc.now); !errors.Is(err, authflow.ErrStateNotFound) {
				t.Errorf("Get: err = %v, want ErrStateNotFound", err)
			}
			st, err := f.states.Consume(ctx, "k", tc.now)
			if !errors.Is(err, authflow.ErrStateExpired) {
				t.Errorf("Consume: err = %v, want ErrStateExpired", err)
			}
			if st != (authflow.PendingState{}) {
				t.Errorf("Consume returned a state with its error: %+v", st)
			}
			if f.raw(t, f.tables.State, stateKey("k")) == nil {
				t.Error("a failed Consume deleted the item")
			}
			// One second earlier the same state is live and consumable.
			if _, err := f.states.Consume(ctx, "k", expires.Add(-time.Second)); err != nil {
				t.Errorf("Consume of the live state: %v", err)
			}
		})
	}
}

func TestStateConcurrentConsumeHasOneWinner(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if err := f.states.Put(t.Context(), pending("k")); err != nil {
		t.Fatal(err)
	}
	const callers = 20
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		wins     int
		notFound int
		start    = make(chan struct{})
	)
	for range callers {
		wg.Go(func() {
			<-start
			_, err := f.states.Consume(t.Context(), "k", created)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, authflow.ErrStateNotFound):
				notFound++
			default:
				t.Errorf("Consume: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if wins != 1 || notFound != callers-1 {
		t.Fatalf("wins = %d, not found = %d; want 1 and %d", wins, notFound, callers-1)
	}
}

func TestStateItemMatchesTheContract(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if err := f.states.Put(t.Context(), pending("k")); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"pk":           "S:k",
		"marketplace":  "S:DE",
		"region":       "S:eu",
		"account_type": "S:vendor",
		"flow":         "S:appstore",
		"created_at":   "N:" + epoch(created),
		"expires_at":   "N:" + epoch(expires),
	}
	if got := shape(f.raw(t, f.tables.State, stateKey("k"))); !maps.Equal(got, want) {
		t.Errorf("item = %v\nwant   %v", got, want)
	}
}

func TestStateCallBudget(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	steps := []struct {
		name string
		run  func() error
		op   string
	}{
		{"Put", func() error { return f.states.Put(ctx, pending("k")) }, "DynamoDB.PutItem"},
		{"Get", func() error { _, err := f.states.Get(ctx, "k", created); return err }, "DynamoDB.GetItem"},
		{"Consume", func() error { _, err := f.states.Consume(ctx, "k", created); return err }, "DynamoDB.DeleteItem"},
		{"Consume used", func() error {
			_, err := f.states.Consume(ctx, "k", created)
			return expectErr(err, authflow.ErrStateNotFound)
		}, "DynamoDB.DeleteItem"},
		{"Consume expired", func() error {
			if err := f.states.Put(ctx, pending("old")); err != nil {
				return err
			}
			f.calls.Reset()
			_, err := f.states.Consume(ctx, "old", expires)
			return expectErr(err, authflow.ErrStateExpired)
		}, "DynamoDB.DeleteItem"},
	}
	for _, step := range steps {
		f.calls.Reset()
		if err := step.run(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if got := f.calls.Counts(); len(got) != 1 || got[step.op] != 1 {
			t.Errorf("%s made %v, want one %s", step.name, got, step.op)
		}
	}
}

// expectErr turns the expected error into success, so a budget step can assert on it.
func expectErr(err, want error) error {
	if errors.Is(err, want) {
		return nil
	}
	if err == nil {
		return errors.New("no error, want " + want.Error())
	}
	return err
}
