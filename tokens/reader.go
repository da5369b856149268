package tokens

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sellerauth/sellerauth/internal/amazon"
	"github.com/sellerauth/sellerauth/internal/authflow"
	"github.com/sellerauth/sellerauth/internal/dynamo"
	"github.com/sellerauth/sellerauth/internal/flight"
	"github.com/sellerauth/sellerauth/internal/refresh"
)

// store is the token table as a Reader uses it; *dynamo.TokenStore implements it, and tests
// fake it.
type store interface {
	// ReadAccessToken reads the access-token attributes of one authorization, consistently, and
	// the refresh token only when withRefreshToken is set (dynamo.ErrNotFound when there is no
	// item).
	ReadAccessToken(ctx context.Context, sellingPartnerID string, region amazon.Region, withRefreshToken bool) (dynamo.ReaderItem, error)
	// SaveRefreshed is the refresh job's conditional write (refresh.ErrConflict when the item
	// changed).
	SaveRefreshed(ctx context.Context, r refresh.Refreshed) (int64, error)
	// Connections lists an end user's connections from the end-user index.
	Connections(ctx context.Context, endUserID string) ([]authflow.Connection, error)
}

var _ store = (*dynamo.TokenStore)(nil)

// Reader returns access tokens; it is safe for concurrent use. Build it with New or
// FromEnvironment (its zero value is not usable) and keep it for the life of the process: its
// cache is what saves the reads.
type Reader struct {
	store store
	// refresher, if set (WithRefresh), refreshes a stale token on demand; nil makes a stale
	// token ErrStale.
	refresher refresh.Refresher
	// skew is how long a returned token stays valid at least: DefaultSkew unless WithSkew.
	skew time.Duration
	// now is the Reader's clock, time.Now but in tests.
	now func() time.Time

	mu    sync.Mutex // guards cache and sweepAt
	cache map[key]Token
	// sweepAt is the cache size at which tokens no longer fresh are dropped: a Lambda that works
	// through every seller would otherwise keep every token it ever read.
	sweepAt int
	// loads shares the read (and refresh) of a seller's token with every caller for that seller
	// that arrives meanwhile.
	loads flight.Group[key, Token]
}

// minSweep is the smallest cache that is swept; sweeps then wait for the cache to double, so
// their cost per insertion stays constant.
const minSweep = 1024

// key is one seller in one region: tokens are never shared across either.
type key struct {
	sellingPartnerID string
	region           amazon.Region
}

// newReader builds a Reader of s with opts applied.
func newReader(s store, opts []Option) *Reader {
	r := &Reader{store: s, now: time.Now}
	for _, o := range opts {
		o(r)
	}
	if r.skew <= 0 {
		r.skew = DefaultSkew
	}
	return r
}

// fresh says t stays valid for at least the skew.
func (r *Reader) fresh(t Token) bool {
	return t.AccessToken != "" && t.ExpiresAt.Sub(r.now()) >= r.skew
}

// AccessToken returns the seller's access token for region, valid for at least the skew. A
// cached token costs no AWS call; concurrent callers for the same seller share one read (and at
// most one refresh), and a caller whose ctx ends while it waits for that read returns ctx's
// error. The errors to act on are ErrNotAuthorized, ErrReauthorizationRequired and ErrStale; any
// other is a failure to read the table (or to refresh the token).
func (r *Reader) AccessToken(ctx context.Context, sellingPartnerID string, region Region) (Token, error) {
	if sellingPartnerID == "" || !amazon.Region(region).Valid() {
		return Token{}, fmt.Errorf("access token: invalid seller %q or region %q", sellingPartnerID, region)
	}
	k := key{sellingPartnerID, amazon.Region(region)}
	if t, ok := r.cached(k); ok {
		return t, nil
	}
	// The load's errors and the ones Do makes itself (a waiter's context ended, the load
	// panicked) are wrapped alike here.
	t, err := r.loads.Do(ctx, k, func(ctx context.Context) (Token, error) {
		// A load that ended between the look at the cache and Do filled it: no second read.
		if t, ok := r.cached(k); ok {
			return t, nil
		}
		t, err := r.load(ctx, k)
		r.keep(k, t, err)
		return t, err
	})
	if err != nil {
		return Token{}, fmt.Errorf("access token: %w", err)
	}
	return t, nil
}

// cached returns the seller's token if the cache holds it fresh.
func (r *Reader) cached(k key) (Token, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.cache[k]
	return t, ok && r.fresh(t)
}

// keep caches what a load returned; a failed load drops the token it replaces (e.g. one whose
// seller has since revoked the app).
func (r *Reader) keep(k key, t Token, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		delete(r.cache, k)
		return
	}
	if r.cache == nil {
		r.cache = map[key]Token{}
	}
	r.cache[k] = t
	if len(r.cache) >= max(r.sweepAt, minSweep) {
		for k, t := range r.cache {
			if !r.fresh(t) {
				delete(r.cache, k)
			}
		}
		r.sweepAt = 2 * len(r.cache)
	}
}

// cachedCount is how many tokens r holds in memory.
func (r *Reader) cachedCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.cache)
}

// load reads the seller's token and, when it is stale and r may, refreshes it.
func (r *Reader) load(ctx context.Context, k key) (Token, error) {
	withRefresh := r.refresher != nil
	st, err := r.store.ReadAccessToken(ctx, k.sellingPartnerID, k.region, withRefresh)
	if errors.Is(err, dynamo.ErrNotFound) {
		return Token{}, ErrNotAuthorized
	}
	if err != nil {
		return Token{}, err
	}
	if st.ReauthorizationRequired {
		return Token{}, ErrReauthorizationRequired
	}
	t := Token{AccessToken: st.AccessToken, ExpiresAt: st.ExpiresAt}
	if r.fresh(t) {
		return t, nil
	}
	if !withRefresh {
		return Token{}, fmt.Errorf("%w (expires %s)", ErrStale, st.ExpiresAt.UTC().Format(time.RFC3339))
	}
	asked := r.now() // the token's lifetime counts from the request, not from the answer
	answer, err := r.refresher.Refresh(ctx, st.RefreshToken)
	if err != nil {
		return Token{}, fmt.Errorf("%w: on-demand refresh: %w", ErrStale, err)
	}
	now := r.now()
	t = Token{AccessToken: answer.AccessToken, ExpiresAt: asked.Add(answer.ExpiresIn)}
	_, err = r.store.SaveRefreshed(ctx, refresh.Refreshed{
		SellingPartnerID:     k.sellingPartnerID,
		Region:               k.region,
		ReadVersion:          st.Version,
		AccessToken:          answer.AccessToken,
		AccessTokenExpiresAt: t.ExpiresAt,
		RefreshToken:         answer.RefreshToken,
		PreviousRefreshToken: st.RefreshToken,
		// The reader does not read the failure bookkeeping; clearing what may not be there is safe.
		ClearInvalidGrants: true,
		UpdatedAt:          now,
	})
	switch {
	case err == nil:
		return t, nil
	case errors.Is(err, refresh.ErrConflict):
		// Another writer (the job, another process, a re-authorization) got there first; its
		// token is the one to use.
		st, err := r.store.ReadAccessToken(ctx, k.sellingPartnerID, k.region, false)
		if errors.Is(err, dynamo.ErrNotFound) {
			return Token{}, ErrNotAuthorized // the seller was disconnected meanwhile
		}
		if err != nil {
			return Token{}, err
		}
		if st.ReauthorizationRequired {
			return Token{}, ErrReauthorizationRequired
		}
		if t := (Token{AccessToken: st.AccessToken, ExpiresAt: st.ExpiresAt}); r.fresh(t) {
			return t, nil
		}
		return Token{}, fmt.Errorf("%w (changed during refresh)", ErrStale)
	default:
		// The new token is valid at LWA even though it could not be stored.
		return t, nil
	}
}
