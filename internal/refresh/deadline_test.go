package refresh_test

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sellerauth/sellerauth/internal/lwa"
	"github.com/sellerauth/sellerauth/internal/refresh"
)

// manualClock is a refresh.Clock that moves only when the test moves it; its timers run, in
// order, inside AdvanceTo. A run's deadline measured on it stops the run where the test says,
// however fast or loaded the machine is.
type manualClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*manualTimer
}

type manualTimer struct {
	at   time.Time
	f    func()
	done bool // fired or stopped
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	t := &manualTimer{at: c.now.Add(d), f: f}
	if d <= 0 {
		t.done = true
		c.mu.Unlock()
		f()
		return func() bool { return false }
	}
	c.timers = append(c.timers, t)
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		stopped := !t.done
		t.done = true
		return stopped
	}
}

// AdvanceTo moves the clock to at and runs every timer due by then before it returns.
func (c *manualClock) AdvanceTo(at time.Time) {
	c.mu.Lock()
	c.now = at
	var due []*manualTimer
	for _, t := range c.timers {
		if !t.done && !t.at.After(at) {
			t.done = true
			due = append(due, t)
		}
	}
	c.mu.Unlock()
	slices.SortStableFunc(due, func(a, b *manualTimer) int { return a.at.Compare(b.at) })
	for _, t := range due {
		t.f()
	}
}

// gate lets the first `open` calls through and holds every later one until released or until the
// caller's context ends. It counts the calls it holds.
type gate struct {
	open    int64
	calls   atomic.Int64
	held    atomic.Int64
	release chan struct{}
}

func newGate(open int64) *gate { return &gate{open: open, release: make(chan struct{})} }

func (g *gate) pass(ctx context.Context) error {
	if g.calls.Add(1) <= g.open {
		return nil
	}
	g.held.Add(1)
	select {
	case <-g.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// gatedLWA is the sandbox's LWA behind a gate.
type gatedLWA struct {
	*gate
	next refresh.Refresher
}

func (g gatedLWA) Refresh(ctx context.Context, refreshToken string) (lwa.Token, error) {
	if err := g.pass(ctx); err != nil {
		return lwa.Token{}, err
	}
	return g.next.Refresh(ctx, refreshToken)
}

// gatedSaves is the token store with its SaveRefreshed behind a gate; saved counts the writes
// that landed.
type gatedSaves struct {
	refresh.Store
	*gate
	saved atomic.Int64
}

func (g *gatedSaves) SaveRefreshed(ctx context.Context, r refresh.Refreshed) (int64, error) {
	if err := g.pass(ctx); err != nil {
		return 0, err
	}
	v, err := g.Store.SaveRefreshed(ctx, r)
	if err == nil {
		g.saved.Add(1)
	}
	return v, err
}

// TestDeadlineStopsTheRunCleanly: Reserve (15 s) before the invocation's deadline the run takes no
// new work; 5 s before it, the queries and LWA calls in flight are cut; a token write under way is
// not cut then, only 0.5 s before the deadline. Whatever was not done stays due, and the summary
// counts exactly the items written. The deadline is read on a clock the test moves once the run
// has made a counted number of LWA calls and writes, so the outcome is the same on any machine.
func TestDeadlineStopsTheRunCleanly(t *testing.T) {
	t.Parallel()
	const due, concurrency = 100, 2
	for _, tc := range []struct {
		name string
		// The run's first lwaCalls LWA calls and firstSaves writes go through; the later ones are
		// held until the test releases them, after moving the clock to `at` before the deadline.
		lwaCalls, firstSaves int64
		at                   time.Duration
		releaseLWA           bool
		refreshed            int64
	}{
		// Stopped taking work with two LWA calls in flight: they are answered and written.
		{name: "stop", lwaCalls: 10, firstSaves: due, at: refresh.DefaultReserve, releaseLWA: true, refreshed: 12},
		// Cut with two LWA calls and one write in flight: the calls are cut, the write lands.
		{name: "cut", lwaCalls: 10, firstSaves: 9, at: 5 * time.Second, refreshed: 10},
		// The write still in flight 0.5 s before the deadline is cut too: not counted, not written.
		{name: "writes end", lwaCalls: 10, firstSaves: 9, at: 500 * time.Millisecond, refreshed: 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			sellers := f.seed(due, due)
			lwaGate, saveGate := newGate(tc.lwaCalls), newGate(tc.firstSaves)
			store := &gatedSaves{Store: f.store, gate: saveGate}
			clock := &manualClock{now: time.Now()}
			// A real deadline an hour away, so that nothing real ever reaches it: the run reads it
			// on clock, which only the test moves.
			deadline := clock.Now().Add(time.Hour)
			ctx, cancel := context.WithDeadline(t.Context(), deadline)
			defer cancel()
			job := f.job(refresh.Policy{Concurrency: concurrency})
			job.Store, job.Refresher, job.Deadlines = store, gatedLWA{gate: lwaGate, next: f.lwa}, clock

			type result struct {
				s   refresh.Summary
				err error
			}
			done := make(chan result, 1)
			go func() {
				s, err := job.Run(ctx)
				done <- result{s, err}
			}()
			// Every LWA slot is held: exactly lwaCalls calls were answered, and no other can start.
			waitFor(t, "every LWA slot held at the gate", func() bool { return lwaGate.held.Load() == concurrency })
			if tc.firstSaves < due {
				// Every answer is written except the one held at the write gate.
				waitFor(t, "the answers written but one", func() bool {
					return store.saved.Load() == tc.firstSaves && saveGate.held.Load() == 1
				})
			}
			clock.AdvanceTo(deadline.Add(-tc.at))
			if tc.releaseLWA {
				close(lwaGate.release)
			}
			close(saveGate.release)
			r := <-done
			if r.err != nil {
				t.Fatal(r.err)
			}
			s := r.s
			if !s.StoppedAtDeadline || s.Refreshed != tc.refreshed || s.Failed+s.Raced != 0 || s.Due != s.Refreshed+s.Left {
				t.Fatalf("summary %+v: want %d refreshed, the rest of the %d read left", s, tc.refreshed, s.Due)
			}
			if n := lwaGate.calls.Load(); n != tc.lwaCalls+concurrency {
				t.Errorf("%d LWA calls, want %d: no call starts once the run stopped taking work", n, tc.lwaCalls+concurrency)
			}
			refreshed := 0
			for _, sl := range sellers {
				switch f.outcome(sl) {
				case "refreshed":
					refreshed++
				case "corrupted":
					t.Fatalf("%s corrupted", sl.id)
				}
			}
			if refreshed != int(s.Refreshed) {
				t.Errorf("%d items refreshed, summary says %d", refreshed, s.Refreshed)
			}
			next, err := f.job(refresh.Policy{}).Run(t.Context())
			if err != nil || next.Refreshed != due-s.Refreshed {
				t.Fatalf("next run: %+v, %v; want the other %d refreshed", next, err, due-s.Refreshed)
			}
		})
	}
}

// A run whose deadline is already within the reserve takes no work at all.
func TestDeadlineAlreadyNear(t *testing.T) {
	t.Parallel()
	store := &memStore{version: map[string]int64{}}
	for i := range 10 {
		store.due = append(store.due, refresh.Due{SellingPartnerID: sellerID(i), RefreshToken: "Atzr|x", Version: 1})
		store.version[sellerID(i)] = 1
	}
	ref := &gatedRefresher{gate: make(chan struct{})}
	close(ref.gate)
	clock := &manualClock{now: time.Now()}
	ctx, cancel := context.WithDeadline(t.Context(), clock.Now().Add(time.Hour))
	defer cancel()
	clock.now = clock.now.Add(time.Hour - time.Second)
	job := &refresh.Job{Store: store, Refresher: ref, Deadlines: clock, Log: slog.New(slog.DiscardHandler)}
	s, err := job.Run(ctx)
	if err != nil || !s.StoppedAtDeadline || s.Refreshed != 0 || ref.served.Load() != 0 {
		t.Fatalf("summary %+v, %v; %d LWA calls; want nothing done", s, err, ref.served.Load())
	}
}
