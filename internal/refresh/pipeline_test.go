package refresh_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sellerauth/sellerauth/internal/amazon"
	"github.com/sellerauth/sellerauth/internal/lwa"
	"github.com/sellerauth/sellerauth/internal/refresh"
)

// gatedRefresher answers every refresh once its gate is open, and counts the calls in flight.
type gatedRefresher struct {
	gate                  chan struct{}
	inFlight, max, served atomic.Int64
}

func (g *gatedRefresher) Refresh(ctx context.Context, refreshToken string) (lwa.Token, error) {
	n := g.inFlight.Add(1)
	defer g.inFlight.Add(-1)
	for m := g.max.Load(); n > m && !g.max.CompareAndSwap(m, n); m = g.max.Load() {
	}
	select {
	case <-g.gate:
	case <-ctx.Done():
		return lwa.Token{}, ctx.Err()
	}
	g.served.Add(1)
	return lwa.Token{AccessToken: "Atza|new-" + refreshToken, RefreshToken: refreshToken, ExpiresIn: time.Hour}, nil
}

// waitFor polls cond until it holds. It sets no deadline of its own, which would be a guess at
// the machine's speed: a pipeline that never gets there is stopped by go test's -timeout, and
// reported here a little before it.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		if dl, ok := t.Deadline(); ok && time.Until(dl) < 5*time.Second {
			t.Fatalf("never happened: %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestLWANeverWaitsOnWrites holds the pipeline's promise: exactly Concurrency LWA calls are in
// flight, and a stalled DynamoDB write never holds an LWA slot. With every token write blocked, LWA
// still answers every due authorization; the writes then land once DynamoDB answers again.
// (A job whose workers each carried one refresh from LWA to its write stalled after
// 2 × Concurrency calls here.)
func TestLWANeverWaitsOnWrites(t *testing.T) {
	for _, claim := range []bool{false, true} {
		t.Run(fmt.Sprintf("claim=%v", claim), func(t *testing.T) {
			const concurrency, due = 4, 100
			store := &memStore{version: map[string]int64{}, saveGate: make(chan struct{})}
			for i := range due {
				id := sellerID(i)
				store.due = append(store.due, refresh.Due{SellingPartnerID: id, Region: amazon.RegionNA, RefreshToken: "Atzr|" + id, Version: 1})
				store.version[id] = 1
			}
			lwaGate := make(chan struct{})
			ref := &gatedRefresher{gate: lwaGate}
			job := &refresh.Job{Store: store, Refresher: ref, Policy: refresh.Policy{Concurrency: concurrency, Claim: claim}, Log: slog.New(slog.DiscardHandler)}

			type result struct {
				s   refresh.Summary
				err error
			}
			done := make(chan result, 1)
			go func() {
				s, err := job.Run(t.Context())
				done <- result{s, err}
			}()

			waitFor(t, "LWA calls in flight reach the concurrency", func() bool { return ref.inFlight.Load() == concurrency })
			close(lwaGate)
			waitFor(t, "LWA answers every due authorization while writes are stalled", func() bool { return ref.served.Load() == due })
			if got := ref.max.Load(); got != concurrency {
				t.Errorf("at most %d LWA calls in flight, want exactly %d", got, concurrency)
			}
			close(store.saveGate)
			r := <-done
			if r.err != nil || r.s.Refreshed != due {
				t.Fatalf("run: %+v, %v; want %d refreshed", r.s, r.err, due)
			}
		})
	}
}

// orderStore is an empty 16-shard store that records the order in which a run queries shards.
type orderStore struct {
	memStore
	mu    sync.Mutex
	order []int
}

func (o *orderStore) DueShards() int { return 16 }

func (o *orderStore) Due(_ context.Context, shard int, _ time.Time, _ func([]refresh.Due) error) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.order = append(o.order, shard)
	return nil
}

// TestRunsStartAtDifferentShards: a run that cannot finish leaves its last shards for later, so
// runs must not always begin at the same shard, or a backlog would starve the same sellers every
// run while the first shards stay fresh. Every run still queries every shard once.
func TestRunsStartAtDifferentShards(t *testing.T) {
	store := &orderStore{}
	job := &refresh.Job{Store: store, Refresher: &gatedRefresher{}, Policy: refresh.Policy{QueryConcurrency: 1}, Log: slog.New(slog.DiscardHandler)}
	firsts := map[int]bool{}
	for range 20 {
		store.order = nil
		if _, err := job.Run(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := slices.Sorted(slices.Values(store.order)); !slices.Equal(got, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}) {
			t.Fatalf("a run queried shards %v, want each of 0-15 once", store.order)
		}
		firsts[store.order[0]] = true
	}
	if len(firsts) < 2 {
		t.Errorf("20 runs all began at shard %v", firsts)
	}
}
