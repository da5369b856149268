package tokens

import (
	"time"

	"github.com/sellerauth/sellerauth/internal/refresh"
)

// NewReader builds a Reader of s, for the tests that fake the table or count its calls.
func NewReader(s store, opts ...Option) *Reader { return newReader(s, opts) }

// WithRefresher makes the Reader refresh a stale token through ref.
func WithRefresher(ref refresh.Refresher) Option {
	return func(r *Reader) { r.refresher = ref }
}

// WithClock makes now the Reader's clock.
func WithClock(now func() time.Time) Option {
	return func(r *Reader) { r.now = now }
}

// OnWait makes r call waiting each time a caller starts waiting for another caller's read of
// the same seller's token, so that a test knows its callers wait before it lets the read end.
func OnWait(r *Reader, waiting func()) {
	r.loads.Joined = func(key) { waiting() }
}

// Cached is how many tokens r holds in memory.
func Cached(r *Reader) int { return r.cachedCount() }
