// Package flight shares one load among concurrent callers that need the same value: the first
// caller for a key runs the load, the callers that arrive while it runs wait for its result
// instead of repeating it, and the key is free again as soon as the load ends, so a later call
// loads anew (caching the result is the caller's business). A waiter stops waiting when its own
// context ends. A load that fails because its caller's context ended is nobody else's answer:
// the waiters that still have time start a load of their own. A load that panics releases every
// waiter with a *PanicError and the caller that ran the load panics on with that same error, so a
// bug is neither hidden nor able to leave waiters hanging or the key stuck.
package flight

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
)

// Group runs loads keyed by K that produce a V. Its zero value is ready to use; it must not be
// copied after first use.
type Group[K comparable, V any] struct {
	// Joined, if set, is called with the key each time a caller starts waiting for a load in
	// flight, before it waits. It lets a test hold a load until its callers are known to wait;
	// set it before the Group's first use.
	Joined func(K)

	mu    sync.Mutex
	calls map[K]*call[V]
}

// call is one load in flight and, once done is closed, its outcome.
type call[V any] struct {
	done chan struct{}
	val  V
	err  error
	// abandoned says the load failed because the context of the caller that ran it ended: the
	// callers that were merely waiting try again with theirs. Any other failure (a timeout of a
	// remote service included) is everyone's answer, or N waiters would repeat it one after
	// another.
	abandoned bool
}

// PanicError is the error of a load that panicked, or that ended its goroutine with
// runtime.Goexit (Value nil): every caller waiting for the load returns it, and the caller that
// ran the load panics with it.
type PanicError struct {
	// Value is what the load panicked with.
	Value any
	// Stack is the stack of the goroutine that ran the load, where it panicked. It is kept
	// because the panic that goes on in that goroutine starts from this package, not from there.
	Stack []byte
}

// Error gives the panic's value and, as a crash report needs, the stack where it happened.
func (e *PanicError) Error() string {
	if e.Value == nil {
		return "flight: the load ended its goroutine without returning"
	}
	return fmt.Sprintf("flight: the load panicked: %v\n\n%s", e.Value, e.Stack)
}

// Do returns what load returns for key. If no load for key is in flight, Do runs load(ctx) in
// the calling goroutine; otherwise it waits for the load in flight and returns its value and
// error, or ctx.Err() (unwrapped) as soon as ctx ends. When the load in flight fails while the
// context of its caller has ended, a waiter whose ctx has not ended runs load itself. When the
// load panics, each waiter returns a *PanicError and the caller that ran it panics with that
// *PanicError once the key is released: a panic is a bug, and only the goroutine whose code
// panicked should crash with it.
func (g *Group[K, V]) Do(ctx context.Context, key K, load func(context.Context) (V, error)) (V, error) {
	for {
		g.mu.Lock()
		c, inFlight := g.calls[key]
		if !inFlight {
			c = &call[V]{done: make(chan struct{})}
			if g.calls == nil {
				g.calls = map[K]*call[V]{}
			}
			g.calls[key] = c
			g.mu.Unlock()
			g.run(ctx, key, c, load)
			return c.val, c.err
		}
		g.mu.Unlock()

		if g.Joined != nil {
			g.Joined(key)
		}
		select {
		case <-c.done:
		case <-ctx.Done():
			var zero V
			return zero, ctx.Err()
		}
		if !c.abandoned {
			return c.val, c.err
		}
		if err := ctx.Err(); err != nil {
			var zero V
			return zero, err
		}
	}
}

// run runs load for every caller of c and releases them however load ends.
func (g *Group[K, V]) run(ctx context.Context, key K, c *call[V], load func(context.Context) (V, error)) {
	returned := false
	defer func() {
		var panicked *PanicError
		if !returned {
			// recover is nil when load called runtime.Goexit: the waiters are released all
			// the same and the goroutine goes on exiting.
			panicked = &PanicError{Value: recover()}
			if panicked.Value != nil {
				panicked.Stack = debug.Stack()
			}
			var zero V
			c.val, c.err = zero, panicked
		}
		g.mu.Lock()
		delete(g.calls, key)
		g.mu.Unlock()
		close(c.done)
		if panicked != nil && panicked.Value != nil {
			panic(panicked)
		}
	}()
	c.val, c.err = load(ctx)
	c.abandoned = c.err != nil && ctx.Err() != nil
	returned = true
}
