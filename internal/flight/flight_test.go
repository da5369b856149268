package flight_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sellerauth/sellerauth/internal/flight"
)

// gatedLoad counts its runs, reports each start on started and returns value (or what fail
// returns) once gate is closed or its context ends.
type gatedLoad struct {
	runs    atomic.Int64
	started chan struct{}
	gate    chan struct{}
	value   string
	fail    func(ctx context.Context) error
}

func newGatedLoad(value string) *gatedLoad {
	return &gatedLoad{started: make(chan struct{}, 100), gate: make(chan struct{}), value: value}
}

func (l *gatedLoad) load(ctx context.Context) (string, error) {
	l.runs.Add(1)
	l.started <- struct{}{}
	select {
	case <-l.gate:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	if l.fail != nil {
		if err := l.fail(ctx); err != nil {
			return "", err
		}
	}
	return l.value, nil
}

// newGroup returns a group whose Joined reports each waiter on the returned channel.
func newGroup() (*flight.Group[string, string], chan string) {
	joined := make(chan string, 100)
	return &flight.Group[string, string]{Joined: func(k string) { joined <- k }}, joined
}

type result struct {
	val string
	err error
}

// do runs g.Do in a goroutine and returns where its result arrives.
func do(ctx context.Context, g *flight.Group[string, string], key string, load func(context.Context) (string, error)) <-chan result {
	out := make(chan result, 1)
	go func() {
		v, err := g.Do(ctx, key, load)
		out <- result{v, err}
	}()
	return out
}

func TestConcurrentCallersShareOneLoad(t *testing.T) {
	t.Parallel()
	g, joined := newGroup()
	l := newGatedLoad("v1")
	const callers = 20
	leader := do(t.Context(), g, "k", l.load)
	<-l.started
	var waiters []<-chan result
	for range callers - 1 {
		waiters = append(waiters, do(t.Context(), g, "k", l.load))
	}
	for range callers - 1 {
		<-joined
	}
	close(l.gate)
	for i, c := range append(waiters, leader) {
		if r := <-c; r.err != nil || r.val != "v1" {
			t.Errorf("caller %d: %q, %v", i, r.val, r.err)
		}
	}
	if n := l.runs.Load(); n != 1 {
		t.Errorf("%d loads for %d concurrent callers, want 1", n, callers)
	}

	// The key is free once the load ended: the next call loads again.
	if v, err := g.Do(t.Context(), "k", func(context.Context) (string, error) { return "v2", nil }); err != nil || v != "v2" {
		t.Errorf("after the shared load: %q, %v; want a new load", v, err)
	}
}

func TestKeysDoNotShare(t *testing.T) {
	t.Parallel()
	g, _ := newGroup()
	a, b := newGatedLoad("a"), newGatedLoad("b")
	ra := do(t.Context(), g, "a", a.load)
	rb := do(t.Context(), g, "b", b.load)
	<-a.started
	<-b.started // b runs while a is still in flight
	close(a.gate)
	close(b.gate)
	if r := <-ra; r.val != "a" || r.err != nil {
		t.Errorf("a: %q, %v", r.val, r.err)
	}
	if r := <-rb; r.val != "b" || r.err != nil {
		t.Errorf("b: %q, %v", r.val, r.err)
	}
}

func TestFailureIsEveryWaitersAnswer(t *testing.T) {
	t.Parallel()
	g, joined := newGroup()
	l := newGatedLoad("")
	// A remote timeout matches context.DeadlineExceeded although no caller's context ended.
	remote := errors.New("LWA did not answer in time")
	l.fail = func(context.Context) error { return errors.Join(remote, context.DeadlineExceeded) }
	const callers = 10
	results := []<-chan result{do(t.Context(), g, "k", l.load)}
	<-l.started
	for range callers - 1 {
		results = append(results, do(t.Context(), g, "k", l.load))
	}
	for range callers - 1 {
		<-joined
	}
	close(l.gate)
	for i, c := range results {
		if r := <-c; !errors.Is(r.err, remote) {
			t.Errorf("caller %d: err = %v, want the load's", i, r.err)
		}
	}
	if n := l.runs.Load(); n != 1 {
		t.Errorf("%d loads: the waiters repeated the failed one", n)
	}
}

func TestPanickingLoadReleasesEveryWaiter(t *testing.T) {
	t.Parallel()
	g, joined := newGroup()
	l := newGatedLoad("")
	l.fail = func(context.Context) error { panic("boom") }

	leaderPanic := make(chan any, 1)
	go func() {
		defer func() { leaderPanic <- recover() }()
		_, _ = g.Do(t.Context(), "k", l.load)
	}()
	<-l.started
	const waiters = 5
	var results []<-chan result
	for range waiters {
		results = append(results, do(t.Context(), g, "k", l.load))
	}
	for range waiters {
		<-joined
	}
	close(l.gate)

	var perr *flight.PanicError
	p := <-leaderPanic
	if err, ok := p.(error); !ok || !errors.As(err, &perr) || perr.Value != "boom" {
		t.Fatalf("the caller that ran the load recovered %v, want a *PanicError of boom", p)
	}
	if !strings.Contains(perr.Error(), "boom") || !strings.Contains(string(perr.Stack), "flight_test") {
		t.Errorf("the error does not give the value and where it panicked: %v", perr)
	}
	for i, c := range results {
		if r := <-c; !errors.As(r.err, &perr) || perr.Value != "boom" {
			t.Errorf("waiter %d: err = %v, want a *PanicError", i, r.err)
		}
	}
	if n := l.runs.Load(); n != 1 {
		t.Errorf("%d loads, want 1", n)
	}

	// Nothing is stuck: the next call loads again.
	if v, err := g.Do(t.Context(), "k", func(context.Context) (string, error) { return "ok", nil }); err != nil || v != "ok" {
		t.Fatalf("after the panic: %q, %v", v, err)
	}
}

func TestGoexitInLoadReleasesEveryWaiter(t *testing.T) {
	t.Parallel()
	g, joined := newGroup()
	l := newGatedLoad("")
	l.fail = func(context.Context) error { runtime.Goexit(); return nil }

	leaderDone := make(chan struct{})
	go func() {
		defer close(leaderDone)
		_, _ = g.Do(t.Context(), "k", l.load)
	}()
	<-l.started
	waiter := do(t.Context(), g, "k", l.load)
	<-joined
	close(l.gate)
	<-leaderDone
	var perr *flight.PanicError
	if r := <-waiter; !errors.As(r.err, &perr) || perr.Value != nil {
		t.Fatalf("waiter: err = %v, want a *PanicError without value", r.err)
	}
	if v, err := g.Do(t.Context(), "k", func(context.Context) (string, error) { return "ok", nil }); err != nil || v != "ok" {
		t.Fatalf("after the Goexit: %q, %v", v, err)
	}
}

func TestWaiterReturnsWhenItsContextEnds(t *testing.T) {
	t.Parallel()
	g, joined := newGroup()
	l := newGatedLoad("v")
	leader := do(t.Context(), g, "k", l.load)
	<-l.started

	ctx, cancel := context.WithCancel(t.Context())
	waiter := do(ctx, g, "k", l.load)
	<-joined
	cancel()
	if r := <-waiter; r.err != context.Canceled {
		t.Errorf("waiter: err = %v, want its own context.Canceled", r.err)
	}
	close(l.gate) // the load goes on for the caller that runs it
	if r := <-leader; r.err != nil || r.val != "v" {
		t.Errorf("leader: %q, %v", r.val, r.err)
	}
}

func TestAbandonedLoadIsRetriedByWaiters(t *testing.T) {
	t.Parallel()
	g, joined := newGroup()
	l := newGatedLoad("v")
	leaderCtx, cancel := context.WithCancel(t.Context())
	leader := do(leaderCtx, g, "k", l.load)
	<-l.started

	waiter := do(t.Context(), g, "k", l.load)
	<-joined
	cancel()
	if r := <-leader; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("leader: err = %v, want context.Canceled", r.err)
	}
	<-l.started // the waiter loads for itself
	close(l.gate)
	if r := <-waiter; r.err != nil || r.val != "v" {
		t.Fatalf("waiter: %q, %v; want its own load's value", r.val, r.err)
	}
	if n := l.runs.Load(); n != 2 {
		t.Errorf("%d loads, want 2", n)
	}
}

// TestZeroGroup: a Group needs no construction and no Joined.
func TestZeroGroup(t *testing.T) {
	t.Parallel()
	var g flight.Group[int, int]
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			if v, err := g.Do(t.Context(), i%2, func(context.Context) (int, error) { return i % 2, nil }); err != nil || v != i%2 {
				t.Errorf("Do(%d) = %d, %v", i%2, v, err)
			}
		})
	}
	wg.Wait()
}
