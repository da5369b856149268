package tokens

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sellerauth/sellerauth/internal/amazon"
	"github.com/sellerauth/sellerauth/internal/flight"
	"github.com/sellerauth/sellerauth/internal/refresh"
)

var (
	// ErrNotAuthorized means the seller never authorized the app in that region.
	ErrNotAuthorized = errors.New("seller has not authorized the app in this region")
	// ErrReauthorizationRequired means the seller revoked the app or the authorization lapsed:
	// the seller must authorize the app again.
	ErrReauthorizationRequired = errors.New("seller must authorize the app again")
	// ErrStale means the stored access token expires within the skew and this Reader may not
	// (or could not) refresh it.
	ErrStale = errors.New("stored access token is stale")
)

// DefaultSkew is how long a returned token stays valid at least, unless Reader.Skew says otherwise.
const DefaultSkew = 5 * time.Minute

// Token is an LWA access token of one seller and region.
type Token struct {
	AccessToken string
	ExpiresAt   time.Time
}

// Stored is what the store returns for one authorization.
type Stored struct {
	AccessToken             string
	ExpiresAt               time.Time
	ReauthorizationRequired bool
	Version                 int64
	// RefreshToken is read only when asked for (the reader policy forbids it).
	RefreshToken string
}

// Store reads and writes the token table; *dynamo.TokenStore implements it.
type Store interface {
	// ReadAccessToken reads the access-token attributes of one authorization, consistently, and
	// the refresh token only when withRefreshToken is set. It returns ErrNotAuthorized when there
	// is no item.
	ReadAccessToken(ctx context.Context, sellingPartnerID string, region amazon.Region, withRefreshToken bool) (Stored, error)
	// SaveRefreshed is the refresh job's conditional write (refresh.ErrConflict when the item changed).
	SaveRefreshed(ctx context.Context, r refresh.Refreshed) (int64, error)
}

// Reader returns access tokens to other Lambdas. Build it once per process; it is safe for
// concurrent use.
type Reader struct {
	Store Store
	// Refresher, if set, refreshes a stale token on demand (it needs the LWA client secret);
	// nil makes a stale token ErrStale.
	Refresher refresh.Refresher
	// Skew is how long a returned token stays valid at least; zero means DefaultSkew.
	Skew time.Duration
	// Now defaults to time.Now.
	Now func() time.Time

	mu    sync.Mutex
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

type key struct {
	sellingPartnerID string
	region           amazon.Region
}

func (r *Reader) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Reader) skew() time.Duration {
	if r.Skew > 0 {
		return r.Skew
	}
	return DefaultSkew
}

func (r *Reader) fresh(t Token) bool {
	return t.AccessToken != "" && t.ExpiresAt.Sub(r.now()) >= r.skew()
}

// AccessToken returns the seller's access token for region, valid for at least the skew. A cached
// token costs no AWS call; concurrent callers for the same seller share one read (and at most
// one refresh).
func (r *Reader) AccessToken(ctx context.Context, sellingPartnerID string, region amazon.Region) (Token, error) {
	if sellingPartnerID == "" || !region.Valid() {
		return Token{}, fmt.Errorf("access token: invalid seller %q or region %q", sellingPartnerID, region)
	}
	k := key{sellingPartnerID, region}
	if t, ok := r.cached(k); ok {
		return t, nil
	}
	// A waiter's own context ending, or the load panicking, is the only error Do makes itself;
	// the load's errors are wrapped here too, so every error reads alike.
	t, err := r.loads.Do(ctx, k, func(ctx context.Context) (Token, error) {
		// A load that ended between the look at the cache and Do filled it: no second read.
		if t, ok := r.cached(k); ok {
			return t, nil
		}
		t, err := r.load(ctx, k)
		r.store(k, t, err)
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

// store caches what a load returned; a failed load drops the token it replaces (e.g. one whose
// seller has since revoked the app).
func (r *Reader) store(k key, t Token, err error) {
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

// Cached is how many tokens r holds in memory.
func (r *Reader) Cached() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.cache)
}

func (r *Reader) load(ctx context.Context, k key) (Token, error) {
	withRefresh := r.Refresher != nil
	st, err := r.Store.ReadAccessToken(ctx, k.sellingPartnerID, k.region, withRefresh)
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
	answer, err := r.Refresher.Refresh(ctx, st.RefreshToken)
	if err != nil {
		return Token{}, fmt.Errorf("%w: on-demand refresh: %w", ErrStale, err)
	}
	now := r.now()
	t = Token{AccessToken: answer.AccessToken, ExpiresAt: asked.Add(answer.ExpiresIn)}
	_, err = r.Store.SaveRefreshed(ctx, refresh.Refreshed{
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
		st, err := r.Store.ReadAccessToken(ctx, k.sellingPartnerID, k.region, false)
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
