package authflow

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sellerauth/sellerauth/internal/amazon"
)

// A connect session is an authorization the app's backend starts for one of its own users (the
// end user). The backend creates it through the IAM-authorized API and sends its user to the
// session's connect URL; the seller's browser opens it once, and from then on the session itself
// is the state of the flow: the callback consumes it, stores the tokens on behalf of the end user
// and records the outcome on it, where the backend reads it. See docs/connections.md.

// SessionStatus is where a session stands, as the app's backend reads it.
type SessionStatus string

// The statuses a session reports. Pending, opened and the internal "callback" (the callback is
// exchanging the code) become expired when their deadline passes without an outcome.
const (
	SessionPending   SessionStatus = "pending"
	SessionOpened    SessionStatus = "opened"
	SessionCallback  SessionStatus = "callback" // stored only: reported as opened
	SessionConnected SessionStatus = "connected"
	SessionFailed    SessionStatus = "failed"
	SessionExpired   SessionStatus = "expired" // reported only: never stored
)

// Session error codes: stable, documented, what the app's backend branches on.
const (
	SessionErrConnectedToAnotherUser = "connected_to_another_user"
	SessionErrCodeRejected           = "code_rejected"
	SessionErrAmazonUnavailable      = "amazon_unavailable"
	SessionErrAppMisconfigured       = "app_misconfigured"
	SessionErrSellerMismatch         = "selling_partner_mismatch"
)

// sessionIDBytes and sessionSecretBytes size the two halves of a session token: a 128-bit
// handle and a 256-bit secret. The handle is not secret (the app's backend logs it and the
// return URL carries it); the secret makes the token unguessable.
const (
	sessionIDBytes     = 16
	sessionSecretBytes = 32
	// sessionTokenLen is the length of a session token (and of a session-bound state) as text.
	sessionTokenLen = ((sessionIDBytes+sessionSecretBytes)*8 + 5) / 6 // 64 base64url characters
	sessionIDPrefix = "cs_"
)

// SessionRetention is how long a session stays readable after its creation, whatever its
// outcome: long enough for a backend to read the outcome late, short enough to keep the table
// small.
const SessionRetention = 7 * 24 * time.Hour

// Session is a connect session as stored. SecretHash and StateKey are SHA-256 digests: the table
// never holds a value that opens the session or completes the flow.
type Session struct {
	ID         string
	SecretHash string // StateKey(connect token)
	EndUserID  string
	// What the flow will ask Amazon for; set at creation and corrected by the log-in step when
	// Amazon's callback host names another region.
	Marketplace string
	Region      amazon.Region
	AccountType amazon.AccountType
	ReturnURL   string // "" for SUCCESS_URL or the built-in page
	// A resumed Appstore-started flow: where the log-in step continues at Amazon.
	AmazonCallbackURI string
	AmazonState       string

	Status    SessionStatus
	Error     string // a Session* error code when failed
	CreatedAt time.Time
	ConnectBy time.Time // the connect URL works until then
	OpenedAt  time.Time
	// StateKey and StateExpiresAt are set when the browser opens the session: the state bound to
	// that browser, and until when it may complete the flow.
	StateKey       string
	StateExpiresAt time.Time
	CompletedAt    time.Time
	// The seller of the callback: set once connected, and on a refusal (the seller the user tried).
	SellingPartnerID string
	// OwnerEndUserID: on a connected_to_another_user refusal, who owns the connection.
	OwnerEndUserID string
	ExpiresAt      time.Time // when the record is purged (TTL)
}

// Reported is the status the app's backend sees at now: a session past its deadline without an
// outcome is expired (DynamoDB's TTL deletes late, and an abandoned flow never comes back).
func (s Session) Reported(now time.Time) SessionStatus {
	switch s.Status {
	case SessionPending:
		if !now.Before(s.ConnectBy) {
			return SessionExpired
		}
	case SessionOpened, SessionCallback:
		if !now.Before(s.StateExpiresAt) {
			return SessionExpired
		}
		return SessionOpened
	}
	return s.Status
}

// SessionOutcome is what the callback records on a session.
type SessionOutcome struct {
	Status           SessionStatus // SessionConnected or SessionFailed
	Error            string
	SellingPartnerID string
	Region           amazon.Region
	AccountType      amazon.AccountType
	At               time.Time
	OwnerEndUserID   string // on a connected_to_another_user refusal
}

// SessionStore keeps connect sessions. Implementations compare expiry themselves (TTL is late).
type SessionStore interface {
	// Create stores a new session; ErrSessionExists if the ID is taken.
	Create(ctx context.Context, s Session) error
	// Get returns a session by ID, or ErrSessionNotFound.
	Get(ctx context.Context, id string) (Session, error)
	// Open consumes a pending, live session whose secret hashes to secretHash and binds it to a
	// new state, atomically: of concurrent opens exactly one wins. It fails with
	// ErrSessionUsed, ErrSessionExpired or ErrSessionNotFound (unknown ID or wrong secret).
	Open(ctx context.Context, id, secretHash, stateKey string, now, stateExpiresAt time.Time) (Session, error)
	// State returns the session an opened, live state belongs to; ErrStateNotFound otherwise.
	State(ctx context.Context, id, stateKey string, now time.Time) (Session, error)
	// Retarget changes the region and account type of an opened session (the log-in step learned
	// from Amazon's host where the seller consented).
	Retarget(ctx context.Context, id, stateKey string, region amazon.Region, t amazon.AccountType) error
	// Consume marks an opened, live state as used by a callback, atomically, and returns the
	// session; ErrStateExpired or ErrStateNotFound (unknown or already used) otherwise.
	Consume(ctx context.Context, id, stateKey string, now time.Time) (Session, error)
	// Finish records a failed or connected outcome of a consumed session.
	Finish(ctx context.Context, id, stateKey string, o SessionOutcome) error
}

// Errors of the session store.
var (
	ErrSessionExists   = errors.New("session already exists")
	ErrSessionNotFound = errors.New("session not found")
	ErrSessionUsed     = errors.New("session link already used")
	ErrSessionExpired  = errors.New("session link expired")
)

// newSessionToken returns a session ID and a token (or state) that carries it: base64url of the
// 16-byte handle followed by 32 random bytes. The handle lets one keyed DynamoDB call find the
// session from the token alone; the rest makes the token unguessable.
func newSessionToken(random io.Reader, id []byte) (string, error) {
	b := make([]byte, sessionIDBytes+sessionSecretBytes)
	copy(b, id)
	if _, err := io.ReadFull(random, b[sessionIDBytes:]); err != nil {
		return "", fmt.Errorf("read random session token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// newSessionID returns a fresh session handle, raw and as text.
func newSessionID(random io.Reader) ([]byte, string, error) {
	b := make([]byte, sessionIDBytes)
	if _, err := io.ReadFull(random, b); err != nil {
		return nil, "", fmt.Errorf("read random session ID: %w", err)
	}
	return b, sessionIDPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// sessionOf returns the session ID a session token or session-bound state carries, and whether
// the value has that shape at all. A website state (32 bytes) has not.
func sessionOf(token string) (string, bool) {
	if len(token) != sessionTokenLen {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) != sessionIDBytes+sessionSecretBytes {
		return "", false
	}
	return sessionIDPrefix + base64.RawURLEncoding.EncodeToString(b[:sessionIDBytes]), true
}

// ValidSessionID reports whether s could be a session ID we issued, before any storage call.
func ValidSessionID(s string) bool {
	_, ok := rawSessionID(s)
	return ok && len(s) == len(sessionIDPrefix)+22
}

// rawSessionID is the inverse of the text form of a session ID.
func rawSessionID(id string) ([]byte, bool) {
	rest, ok := strings.CutPrefix(id, sessionIDPrefix)
	if !ok {
		return nil, false
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	return b, err == nil && len(b) == sessionIDBytes
}
