package refresh_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/sellerauth/sellerauth/internal/amazon"
	"github.com/sellerauth/sellerauth/internal/lwa"
	"github.com/sellerauth/sellerauth/internal/refresh"
	"github.com/sellerauth/sellerauth/internal/sandbox"
)

// memStore is an in-memory refresh.Store with a fixed latency per call, standing in for real
// DynamoDB (single-digit milliseconds, many calls in parallel) in BenchmarkRefreshPipeline, for a
// stalled DynamoDB in TestLWANeverWaitsOnWrites, and for the brake's rule in TestMassInvalidGrantRule. moto_server handles one call at a time,
// which caps BenchmarkRefreshRun below what the job does against DynamoDB itself.
type memStore struct {
	latency time.Duration
	// saveGate, when set, holds every SaveRefreshed until it is closed.
	saveGate chan struct{}
	mu       sync.Mutex
	due      []refresh.Due
	version  map[string]int64
	// marked are the sellers marked reauthorization_required.
	marked []string
}

func (m *memStore) wait(ctx context.Context) error {
	if m.latency == 0 {
		return ctx.Err()
	}
	select {
	case <-time.After(m.latency):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m *memStore) DueShards() int { return 1 }

func (m *memStore) Due(ctx context.Context, _ int, _ time.Time, fn func([]refresh.Due) error) error {
	if err := m.wait(ctx); err != nil {
		return err
	}
	return fn(m.due)
}

func (m *memStore) write(ctx context.Context, id string, read int64) (int64, error) {
	if err := m.wait(ctx); err != nil {
		return 0, err
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	if m.version[id] != read {
		return 0, refresh.ErrConflict
	}
	m.version[id]++
	return m.version[id], nil
}

func (m *memStore) Claim(ctx context.Context, d refresh.Due, _, _ time.Time) (int64, error) {
	return m.write(ctx, d.SellingPartnerID, d.Version)
}

func (m *memStore) SaveRefreshed(ctx context.Context, r refresh.Refreshed) (int64, error) {
	if m.saveGate != nil {
		select {
		case <-m.saveGate:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	return m.write(ctx, r.SellingPartnerID, r.ReadVersion)
}

// RecordInvalidGrant answers as if the invalid_grant had been seen often enough, for long enough,
// to be confirmed.
func (m *memStore) RecordInvalidGrant(ctx context.Context, d refresh.Due, now, _ time.Time) (refresh.InvalidGrants, error) {
	v, err := m.write(ctx, d.SellingPartnerID, d.Version)
	if err != nil {
		return refresh.InvalidGrants{}, err
	}
	return refresh.InvalidGrants{Count: 100, FirstAt: now.Add(-24 * time.Hour), Version: v}, nil
}

func (m *memStore) MarkReauthorizationRequired(ctx context.Context, d refresh.Due, _, _ time.Time) error {
	if _, err := m.write(ctx, d.SellingPartnerID, d.Version); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.marked = append(m.marked, d.SellingPartnerID)
	return nil
}

func (m *memStore) NoteReauthorizationDue(context.Context, refresh.Due, int, time.Time) error {
	return fmt.Errorf("not in this benchmark")
}

// BenchmarkRefreshPipeline measures the job's LWA pipeline alone: 1,000 due tokens, the sandbox
// with 100 ms latency at concurrency 16, and a store answering in 5 ms. Reported as rate/ideal.
func BenchmarkRefreshPipeline(b *testing.B) {
	amz := sandbox.New(sandbox.Options{ClientID: clientID, ClientSecret: clientSecret})
	srv := httptest.NewServer(amz.Handler())
	b.Cleanup(srv.Close)
	client := lwa.New(srv.URL+sandbox.TokenPath, lwa.Static{ClientID: clientID, ClientSecret: clientSecret})
	const due = 1000
	store := &memStore{latency: 5 * time.Millisecond, version: map[string]int64{}}
	for i := range due {
		id := sellerID(i)
		tok, err := client.ExchangeCode(b.Context(), amz.IssueCode(id), "")
		if err != nil {
			b.Fatal(err)
		}
		store.due = append(store.due, refresh.Due{SellingPartnerID: id, Region: amazon.RegionNA, RefreshToken: tok.RefreshToken, Version: 1})
		store.version[id] = 1
	}
	amz.SetLatency(100 * time.Millisecond)
	for _, claim := range []bool{false, true} {
		b.Run(fmt.Sprintf("claim=%v", claim), func(b *testing.B) {
			for id := range store.version {
				store.version[id] = 1
			}
			var s refresh.Summary
			for range 1 {
				var err error
				s, err = (&refresh.Job{Store: store, Refresher: client, Policy: refresh.Policy{Concurrency: 16, Claim: claim}, Log: slog.New(slog.DiscardHandler)}).Run(b.Context())
				if err != nil || s.Refreshed != due {
					b.Fatalf("%+v, %v", s, err)
				}
			}
			rate := float64(s.Refreshed) / s.Duration.Seconds()
			b.ReportMetric(rate/160, "rate/ideal")
			fmt.Fprintf(os.Stderr, "pipeline (store 5 ms, claim=%v): %d refreshed in %v: %.1f/s, rate/ideal=%.3f\n",
				claim, s.Refreshed, s.Duration.Round(time.Millisecond), rate, rate/160)
		})
	}
}
