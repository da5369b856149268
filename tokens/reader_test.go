package tokens_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sellerauth/sellerauth/internal/amazon"
	"github.com/sellerauth/sellerauth/internal/authflow"
	"github.com/sellerauth/sellerauth/internal/dynamo"
	"github.com/sellerauth/sellerauth/internal/lwa"
	"github.com/sellerauth/sellerauth/internal/refresh"
	"github.com/sellerauth/sellerauth/tokens"
)

func TestCacheHitMakesNoAWSCall(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	stored := f.authorize("A1SELLER", amazon.RegionEU)
	r := tokens.NewReader(f.store, tokens.WithClock(f.clock.Now))
	f.calls.Reset()

	first, err := r.AccessToken(t.Context(), "A1SELLER", tokens.RegionEU)
	if err != nil {
		t.Fatal(err)
	}
	if first.AccessToken != stored.AccessToken {
		t.Fatal("the reader returned another token than the stored one")
	}
	if got := f.calls.Total(); got != 1 {
		t.Fatalf("first read: %d AWS calls (%v), want one GetItem", got, f.calls.Counts())
	}
	f.calls.Reset()
	f.clock.Advance(50 * time.Minute) // 10 minutes left: more than the 5-minute skew
	second, err := r.AccessToken(t.Context(), "A1SELLER", tokens.RegionEU)
	if err != nil || second != first {
		t.Fatalf("cached read: %v, %v", second == first, err)
	}
	if got := f.calls.Total(); got != 0 {
		t.Errorf("cache hit made %d AWS calls", got)
	}
}

func TestCacheIsPerSellerAndRegion(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := f.authorize("A1SELLER", amazon.RegionNA)
	b := f.authorize("A2SELLER", amazon.RegionNA)
	r := tokens.NewReader(f.store, tokens.WithClock(f.clock.Now))
	for _, tc := range []struct {
		id     string
		region tokens.Region
		want   string
	}{{"A1SELLER", tokens.RegionNA, a.AccessToken}, {"A2SELLER", tokens.RegionNA, b.AccessToken}, {"A1SELLER", tokens.RegionNA, a.AccessToken}} {
		got, err := r.AccessToken(t.Context(), tc.id, tc.region)
		if err != nil || got.AccessToken != tc.want {
			t.Fatalf("%s: another seller's token or %v", tc.id, err)
		}
	}
	if _, err := r.AccessToken(t.Context(), "A1SELLER", tokens.RegionFE); !errors.Is(err, tokens.ErrNotAuthorized) {
		t.Errorf("other region: err = %v, want ErrNotAuthorized", err)
	}
}

func TestStaleTokenRefreshedOnceUnderConcurrentCallers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	stored := f.authorize("A1SELLER", amazon.RegionNA)
	f.clock.Advance(58 * time.Minute) // the schedule is late: 2 minutes left
	f.amazon.SetLatency(50 * time.Millisecond)
	r := tokens.NewReader(f.store, tokens.WithRefresher(f.lwa), tokens.WithClock(f.clock.Now))
	f.calls.Reset()
	refreshesBefore := f.amazon.Stats().Refreshes

	const callers = 50
	var wg sync.WaitGroup
	got := make([]tokens.Token, callers)
	errs := make([]error, callers)
	start := make(chan struct{})
	for i := range callers {
		wg.Go(func() {
			<-start
			got[i], errs[i] = r.AccessToken(t.Context(), "A1SELLER", tokens.RegionNA)
		})
	}
	close(start)
	wg.Wait()
	for i := range callers {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if got[i] != got[0] || got[i].AccessToken == stored.AccessToken || !f.amazon.AccessTokenValid(got[i].AccessToken) {
			t.Fatalf("caller %d got a different, old or invalid token", i)
		}
	}
	if n := f.amazon.Stats().Refreshes - refreshesBefore; n != 1 {
		t.Errorf("%d refreshes at LWA, want 1", n)
	}
	if n := f.calls.Count("DynamoDB.UpdateItem"); n != 1 {
		t.Errorf("%d writes, want 1", n)
	}
	it, err := f.store.Get(t.Context(), "A1SELLER", amazon.RegionNA)
	if err != nil || it.AccessToken != got[0].AccessToken || it.Version != 2 || it.RefreshToken != stored.RefreshToken {
		t.Errorf("stored item: version %d, same token %v, %v", it.Version, it.AccessToken == got[0].AccessToken, err)
	}
}

func TestTypedErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.authorize("A1STALE", amazon.RegionNA)
	f.authorize("A2REVOKED", amazon.RegionNA)
	it, err := f.store.Get(t.Context(), "A2REVOKED", amazon.RegionNA)
	if err != nil {
		t.Fatal(err)
	}
	now := f.clock.Now()
	if err := f.store.MarkReauthorizationRequired(t.Context(), refresh.Due{SellingPartnerID: "A2REVOKED", Region: amazon.RegionNA, Version: it.Version}, now, now.Add(30*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(56 * time.Minute)
	r := tokens.NewReader(f.store, tokens.WithClock(f.clock.Now)) // no credentials: cannot refresh
	tests := []struct {
		name string
		id   string
		want error
	}{
		{"never authorized", "A9NOBODY", tokens.ErrNotAuthorized},
		{"re-authorization required", "A2REVOKED", tokens.ErrReauthorizationRequired},
		{"stale and no credentials", "A1STALE", tokens.ErrStale},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := r.AccessToken(t.Context(), tc.id, tokens.RegionNA); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// gatedRefresher holds each refresh until its gate opens or its caller gives up, and reports
// each one it holds on entered.
type gatedRefresher struct {
	next    refresh.Refresher
	entered chan struct{}
	gate    chan struct{}
}

func (g *gatedRefresher) Refresh(ctx context.Context, refreshToken string) (lwa.Token, error) {
	g.entered <- struct{}{}
	select {
	case <-g.gate:
	case <-ctx.Done():
		return lwa.Token{}, ctx.Err()
	}
	return g.next.Refresh(ctx, refreshToken)
}

func TestWaitingCallerSurvivesTheLeaderGivingUp(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.authorize("A1SELLER", amazon.RegionNA)
	f.clock.Advance(58 * time.Minute)
	ref := &gatedRefresher{next: f.lwa, entered: make(chan struct{}, 2), gate: make(chan struct{})}
	r := tokens.NewReader(f.store, tokens.WithRefresher(ref), tokens.WithClock(f.clock.Now))
	waiting := make(chan struct{}, 1)
	tokens.OnWait(r, func() { waiting <- struct{}{} })

	leaderCtx, cancel := context.WithCancel(t.Context())
	defer cancel()
	leaderErr := make(chan error, 1)
	go func() {
		_, err := r.AccessToken(leaderCtx, "A1SELLER", tokens.RegionNA)
		leaderErr <- err
	}()
	<-ref.entered // the leader's refresh is in flight
	follower := make(chan error, 1)
	go func() {
		tok, err := r.AccessToken(t.Context(), "A1SELLER", tokens.RegionNA)
		if err == nil && !f.amazon.AccessTokenValid(tok.AccessToken) {
			err = errors.New("invalid token")
		}
		follower <- err
	}()
	<-waiting // the follower waits for the leader's refresh
	cancel()  // the leader's invocation ends
	if err := <-leaderErr; !errors.Is(err, context.Canceled) {
		t.Errorf("leader: err = %v, want its context's", err)
	}
	<-ref.entered // the follower refreshes with its own context
	close(ref.gate)
	if err := <-follower; err != nil {
		t.Fatalf("follower: %v", err)
	}
}

// timeoutRefresher fails the way an LWA call does when LWA never answers within the HTTP
// client's timeout: an error that matches context.DeadlineExceeded although no caller's context
// ended.
type timeoutRefresher struct {
	calls   atomic.Int64
	entered chan struct{}
	gate    chan struct{}
}

func (r *timeoutRefresher) Refresh(context.Context, string) (lwa.Token, error) {
	r.calls.Add(1)
	r.entered <- struct{}{}
	<-r.gate
	return lwa.Token{}, fmt.Errorf("%w: Post: %w (Client.Timeout exceeded)", lwa.ErrUnavailable, context.DeadlineExceeded)
}

// TestLWATimeoutIsEveryWaitersAnswer: when the leader's refresh fails on LWA's timeout, the
// callers waiting for it get that answer; they do not repeat the refresh one after another
// (ten callers would otherwise hold LWA for ten timeouts in a row).
func TestLWATimeoutIsEveryWaitersAnswer(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.authorize("A1SELLER", amazon.RegionNA)
	f.clock.Advance(58 * time.Minute)
	const callers = 10
	ref := &timeoutRefresher{entered: make(chan struct{}, callers), gate: make(chan struct{})}
	r := tokens.NewReader(f.store, tokens.WithRefresher(ref), tokens.WithClock(f.clock.Now))
	waiting := make(chan struct{}, callers)
	tokens.OnWait(r, func() { waiting <- struct{}{} })

	errs := make(chan error, callers)
	for range callers {
		go func() {
			_, err := r.AccessToken(t.Context(), "A1SELLER", tokens.RegionNA)
			errs <- err
		}()
	}
	<-ref.entered // one caller refreshes
	for range callers - 1 {
		<-waiting // and every other one waits for it
	}
	close(ref.gate)
	for range callers {
		if err := <-errs; !errors.Is(err, tokens.ErrStale) {
			t.Errorf("err = %v, want ErrStale", err)
		}
	}
	if n := ref.calls.Load(); n != 1 {
		t.Errorf("%d LWA refreshes for %d concurrent callers: the waiters repeated the failed one", n, callers)
	}
}

// endlessStore has a fresh token for every seller, valid for an hour from its clock.
type endlessStore struct{ now func() time.Time }

func (s endlessStore) ReadAccessToken(_ context.Context, id string, _ amazon.Region, _ bool) (dynamo.ReaderItem, error) {
	return dynamo.ReaderItem{AccessToken: "Atza|" + id, ExpiresAt: s.now().Add(time.Hour), Version: 1}, nil
}

func (endlessStore) SaveRefreshed(context.Context, refresh.Refreshed) (int64, error) {
	return 0, errors.New("not used")
}

func (endlessStore) Connections(context.Context, string) ([]authflow.Connection, error) {
	return nil, errors.New("not used")
}

// TestCacheDropsExpiredTokens: a Lambda that works through many sellers does not keep every
// token it ever read.
func TestCacheDropsExpiredTokens(t *testing.T) {
	t.Parallel()
	clock := time.Now()
	now := func() time.Time { return clock }
	r := tokens.NewReader(endlessStore{now}, tokens.WithClock(now))
	read := func(from, to int) {
		for i := from; i < to; i++ {
			if _, err := r.AccessToken(t.Context(), fmt.Sprintf("A%d", i), tokens.RegionNA); err != nil {
				t.Fatal(err)
			}
		}
	}
	read(0, 1000)
	if n := tokens.Cached(r); n != 1000 {
		t.Fatalf("cached %d, want 1000", n)
	}
	clock = clock.Add(2 * time.Hour) // every cached token has expired
	read(1000, 2100)
	if n := tokens.Cached(r); n > 1100 {
		t.Errorf("cached %d tokens after reading 1,100 new ones: the expired ones stayed", n)
	}
}

// panickingStore panics in its first read, once its gate opens; later reads are endlessStore's.
type panickingStore struct {
	endlessStore
	entered chan struct{}
	gate    chan struct{}
	reads   atomic.Int64
}

func (s *panickingStore) ReadAccessToken(ctx context.Context, id string, region amazon.Region, withRefreshToken bool) (dynamo.ReaderItem, error) {
	if s.reads.Add(1) == 1 {
		s.entered <- struct{}{}
		<-s.gate
		panic("a bug in the read")
	}
	return s.endlessStore.ReadAccessToken(ctx, id, region, withRefreshToken)
}

// TestPanickingReadReleasesWaiters: a read that panics must not leave the callers waiting for it
// hanging, nor the seller's key held by a read that will never end.
func TestPanickingReadReleasesWaiters(t *testing.T) {
	t.Parallel()
	now := time.Now
	s := &panickingStore{endlessStore: endlessStore{now}, entered: make(chan struct{}, 1), gate: make(chan struct{})}
	r := tokens.NewReader(s, tokens.WithClock(now))
	const waiters = 5
	waiting := make(chan struct{}, waiters)
	tokens.OnWait(r, func() { waiting <- struct{}{} })

	leaderPanic := make(chan any, 1)
	go func() {
		defer func() { leaderPanic <- recover() }()
		_, _ = r.AccessToken(t.Context(), "A1SELLER", tokens.RegionNA)
	}()
	<-s.entered
	errs := make(chan error, waiters)
	for range waiters {
		go func() {
			_, err := r.AccessToken(t.Context(), "A1SELLER", tokens.RegionNA)
			errs <- err
		}()
	}
	for range waiters {
		<-waiting
	}
	close(s.gate)
	if p := <-leaderPanic; p == nil {
		t.Error("the caller whose read panicked did not panic")
	}
	for range waiters {
		if err := <-errs; err == nil || !strings.Contains(err.Error(), "a bug in the read") {
			t.Errorf("waiter: err = %v, want the panic", err)
		}
	}
	tok, err := r.AccessToken(t.Context(), "A1SELLER", tokens.RegionNA)
	if err != nil || tok.AccessToken != "Atza|A1SELLER" {
		t.Fatalf("after the panic: %v", err)
	}
	if n := s.reads.Load(); n != 2 {
		t.Errorf("%d reads, want the panicking one and one more", n)
	}
}
