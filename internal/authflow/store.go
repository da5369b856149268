package authflow

import (
	"context"
	"errors"
	"time"

	"github.com/sellerauth/sellerauth/internal/amazon"
)

// Flow says where an authorization started.
type Flow string

const (
	// FlowWebsite started at our /authorize.
	FlowWebsite Flow = "website"
	// FlowAppstore started at Amazon's Appstore; our first sight of it is /login.
	FlowAppstore Flow = "appstore"
)

// PendingState is one authorization in progress. Only the hash of the state value is stored, so
// a read of the state table cannot be replayed as a state.
type PendingState struct {
	Key         string // StateKey(state value)
	Marketplace string // marketplace code chosen at start
	Region      amazon.Region
	AccountType amazon.AccountType
	Flow        Flow
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// StateStore keeps pending states. Implementations must treat an item whose ExpiresAt has passed
// as absent, because DynamoDB TTL deletes days late.
type StateStore interface {
	// Put stores a new state; it fails with ErrStateExists if the key is taken.
	Put(ctx context.Context, s PendingState) error
	// Get returns a live state, or ErrStateNotFound.
	Get(ctx context.Context, key string, now time.Time) (PendingState, error)
	// Consume deletes the state and returns it, atomically: of concurrent callers exactly one
	// succeeds. It fails with ErrStateExpired for an expired item still in the table and
	// ErrStateNotFound for an unknown or already used one.
	Consume(ctx context.Context, key string, now time.Time) (PendingState, error)
}

// Authorization is what a successful callback stores for one seller in one region.
type Authorization struct {
	SellingPartnerID     string
	Region               amazon.Region
	AccountType          amazon.AccountType
	RefreshToken         string
	AccessToken          string
	AccessTokenExpiresAt time.Time
	AuthorizedAt         time.Time
	MWSAuthToken         string // hybrid apps only
	// EndUserID is the app's user the authorization belongs to; "" for an anonymous one.
	EndUserID string
	// Session, when set, is the connect session whose outcome is written together with the
	// tokens, in the same atomic call.
	Session *SessionRef
}

// SessionRef names a consumed session and the outcome to record on it.
type SessionRef struct {
	ID       string
	StateKey string
	Outcome  SessionOutcome
}

// TokenStore saves authorizations.
type TokenStore interface {
	// SaveAuthorization writes the tokens, bumping the item's version, keeping the refresh
	// token it replaces (history), and recording a.Session's outcome, all or nothing. It
	// replaces an item only when it holds no active authorization, or one of the same end user
	// (a renewal; for an anonymous a, one of no end user). It fails with
	// ErrConnectedToAnotherUser when another end user's active authorization is stored, and with
	// ErrNewerAuthorization when the stored item was authorized later than a.AuthorizedAt.
	SaveAuthorization(ctx context.Context, a Authorization) error
}

// Errors the stores return; adapters wrap them with context.
var (
	ErrStateExists        = errors.New("state already exists")
	ErrStateNotFound      = errors.New("state not found or already used")
	ErrStateExpired       = errors.New("state expired")
	ErrNewerAuthorization = errors.New("a newer authorization is already stored")
)
