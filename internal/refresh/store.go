package refresh

import (
	"context"
	"errors"
	"time"

	"github.com/sellerauth/sellerauth/internal/amazon"
)

// ErrConflict means a conditional write found another version (a concurrent run, a reader's
// on-demand refresh or a re-authorization got there first) or an authorization that is no longer
// active. It is not a failure: the newer write wins.
var ErrConflict = errors.New("authorization changed since it was read")

// Due is one authorization the due index returned. The index is eventually consistent: Version
// may be stale, which the conditional writes catch.
type Due struct {
	SellingPartnerID string
	Region           amazon.Region
	RefreshToken     string
	Version          int64
	DueAt            time.Time
	// ReauthorizeBy is when the seller must authorize again (365 days after consent); zero if
	// the index does not carry it.
	ReauthorizeBy time.Time
	// InvalidGrants is how many invalid_grant answers are counted against the item. It comes
	// from the same index image as Version, so a write conditional on Version can trust it.
	InvalidGrants int
}

// Refreshed is the outcome of a successful refresh, written conditionally on ReadVersion.
type Refreshed struct {
	SellingPartnerID     string
	Region               amazon.Region
	ReadVersion          int64
	AccessToken          string
	AccessTokenExpiresAt time.Time
	// RefreshToken is the one LWA answered with (normally the same as before).
	RefreshToken string
	// PreviousRefreshToken is the stored one: refresh_token is written only when they differ.
	PreviousRefreshToken string
	// ClearInvalidGrants removes the refresh-failure bookkeeping (set it when there may be some).
	ClearInvalidGrants bool
	UpdatedAt          time.Time
}

// InvalidGrants is the refresh-failure bookkeeping of one authorization after a failure was
// recorded.
type InvalidGrants struct {
	Count   int
	FirstAt time.Time
	// Version is the item's version after the write.
	Version int64
}

// Store is what the job needs from the token table. Every write is conditional on the version
// passed in and on the authorization being active, and returns ErrConflict otherwise.
type Store interface {
	// DueShards is the number of shards of the due index.
	DueShards() int
	// Due calls fn with each page of the authorizations of one shard whose refresh is due at or
	// before until, earliest first. It stops when fn returns an error and returns that error.
	Due(ctx context.Context, shard int, until time.Time, fn func([]Due) error) error
	// Claim moves the item's due time to until and bumps its version, so that an overlapping run
	// neither picks it up nor calls LWA for it again while this run holds it. It returns the new
	// version.
	Claim(ctx context.Context, d Due, until, now time.Time) (int64, error)
	// SaveRefreshed stores a new access token, schedules the next refresh and clears the
	// refresh-failure bookkeeping. It returns the new version.
	SaveRefreshed(ctx context.Context, r Refreshed) (int64, error)
	// RecordInvalidGrant counts one invalid_grant (remembering when the first was seen) and moves
	// the due time to retryAt, leaving the tokens as they are.
	RecordInvalidGrant(ctx context.Context, d Due, now, retryAt time.Time) (InvalidGrants, error)
	// MarkReauthorizationRequired sets status reauthorization_required and the TTL expiresAt,
	// and takes the item out of the due index. The tokens are left as they are.
	MarkReauthorizationRequired(ctx context.Context, d Due, now, expiresAt time.Time) error
	// NoteReauthorizationDue records, once per authorization, that the reminder daysLeft (one of
	// ReauthorizationReminders) is due; ErrConflict when it already was (or the item changed).
	NoteReauthorizationDue(ctx context.Context, d Due, daysLeft int, now time.Time) error
}
