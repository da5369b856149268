package refresh_test

import (
	"context"
	"fmt"
	"log/slog"
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

// waitFor polls cond; the timeout only keeps a broken pipeline from hanging the suite.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("never happened: %s", what)
		}
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
