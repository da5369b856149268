package authflow

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/sellerauth/sellerauth/internal/amazon"
)

// FieldError is a field of a backend API request that is missing or has a bad value. Its
// message names the field, never its value.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return fmt.Sprintf("field %s: %s", e.Field, e.Reason) }

// SessionRequest is the app's backend asking for a connect session for one of its users.
type SessionRequest struct {
	EndUserID         string
	Marketplace       string // code or ID; "" for the default
	AccountType       string // seller or vendor; "" for seller
	ReturnURL         string // must be admitted by ALLOWED_RETURN_URLS
	AmazonCallbackURI string // with AmazonState: resume an Appstore-started flow
	AmazonState       string
	// BaseURL is where this API is served (scheme://host), the base of the connect URL.
	BaseURL string
}

// CreatedSession is what the backend gets back: the handle to read the outcome with, and the
// single-use link to send its user to.
type CreatedSession struct {
	ID         string
	ConnectURL string
	ExpiresAt  time.Time
}

// maxEndUserIDLen bounds the app's own user ID.
const maxEndUserIDLen = 128

// ValidEndUserID reports whether s is an acceptable end_user_id: 1 to 128 printable ASCII
// characters (the app's own ID for its user or organisation).
func ValidEndUserID(s string) bool {
	if len(s) < 1 || len(s) > maxEndUserIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// CreateSession stores a new connect session in one storage call. Only the SHA-256 of the
// connect token is stored: a read of the table cannot open anybody's session.
func (s *Service) CreateSession(ctx context.Context, r SessionRequest) (CreatedSession, error) {
	sess, err := s.sessionFrom(r)
	if err != nil {
		return CreatedSession{}, err
	}
	rawID, id, err := newSessionID(s.Random)
	if err != nil {
		return CreatedSession{}, err
	}
	token, err := newSessionToken(s.Random, rawID)
	if err != nil {
		return CreatedSession{}, err
	}
	now := s.Now()
	sess.ID = id
	sess.SecretHash = StateKey(token)
	sess.Status = SessionPending
	sess.CreatedAt = now
	sess.ConnectBy = now.Add(s.SessionTTL)
	sess.ExpiresAt = now.Add(SessionRetention)
	switch err := s.Sessions.Create(ctx, sess); {
	case errors.Is(err, ErrSessionExists):
		// 128 random bits collided: the random source is broken. Refuse rather than share.
		return CreatedSession{}, fmt.Errorf("store session: %w", err)
	case err != nil:
		return CreatedSession{}, fmt.Errorf("%w: store session: %w", ErrStorage, err)
	}
	return CreatedSession{
		ID:         id,
		ConnectURL: r.BaseURL + "/connect?" + url.Values{"session": {token}}.Encode(),
		ExpiresAt:  sess.ConnectBy,
	}, nil
}

// sessionFrom validates a request into the session it describes.
func (s *Service) sessionFrom(r SessionRequest) (Session, error) {
	if r.EndUserID == "" {
		return Session{}, &FieldError{"end_user_id", "is required"}
	}
	if !ValidEndUserID(r.EndUserID) {
		return Session{}, &FieldError{"end_user_id", "must be 1 to 128 printable ASCII characters"}
	}
	m, err := s.marketplace(r.Marketplace)
	if err != nil {
		return Session{}, &FieldError{"marketplace", "is not a known marketplace code or ID"}
	}
	t, err := amazon.ParseAccountType(r.AccountType)
	if err != nil {
		return Session{}, &FieldError{"account_type", "must be seller or vendor"}
	}
	if _, err := m.Origin(t); err != nil {
		return Session{}, &FieldError{"account_type", "vendor is not offered in that marketplace"}
	}
	sess := Session{EndUserID: r.EndUserID, Marketplace: m.Code, Region: m.Region, AccountType: t}
	if r.ReturnURL != "" {
		if !s.ReturnURLs.Allowed(r.ReturnURL) {
			return Session{}, &FieldError{"return_url", "is not under one of ALLOWED_RETURN_URLS"}
		}
		sess.ReturnURL = r.ReturnURL
	}
	switch {
	case r.AmazonCallbackURI == "" && r.AmazonState == "":
		return sess, nil
	case r.AmazonCallbackURI == "":
		return Session{}, &FieldError{"amazon_callback_uri", "is required with amazon_state"}
	case r.AmazonState == "":
		return Session{}, &FieldError{"amazon_state", "is required with amazon_callback_uri"}
	case len(r.AmazonState) > 2048 || !printableASCII(r.AmazonState):
		return Session{}, &FieldError{"amazon_state", "must be at most 2048 printable ASCII characters"}
	}
	base, _ := m.Origin(t) // offered: checked above
	if s.Consent.OriginOverride != "" {
		base = s.Consent.OriginOverride
	}
	callback, err := amazon.ResolveCallbackURI(r.AmazonCallbackURI, base, s.Consent.OriginOverride)
	if err != nil {
		return Session{}, &FieldError{"amazon_callback_uri", "is not a Seller Central or Vendor Central URL"}
	}
	// Amazon's host says where the seller is consenting; it wins over the marketplace asked for.
	if region, t, ok := amazon.LookupOrigin(callback.Scheme + "://" + callback.Host); ok {
		sess.Region, sess.AccountType = region, t
	}
	sess.AmazonCallbackURI = callback.String()
	sess.AmazonState = r.AmazonState
	return sess, nil
}

// Session reads a session for the app's backend.
func (s *Service) Session(ctx context.Context, id string) (Session, error) {
	if !ValidSessionID(id) {
		return Session{}, ErrSessionNotFound
	}
	sess, err := s.Sessions.Get(ctx, id)
	switch {
	case errors.Is(err, ErrSessionNotFound):
		return Session{}, ErrSessionNotFound
	case err != nil:
		return Session{}, fmt.Errorf("%w: get session: %w", ErrStorage, err)
	}
	return sess, nil
}

// Opened is the outcome of opening a session link: a state bound to this browser, and where the
// browser goes next.
type Opened struct {
	Issued
	SessionID   string
	RedirectURL string
}

// OpenSession is GET /connect?session=: the browser that opens a live, unused session link
// consumes it and gets a state bound to it, in one atomic storage call; then it goes on to
// Amazon's consent page, or to amazon_callback_uri for a resumed Appstore-started flow.
func (s *Service) OpenSession(ctx context.Context, token string) (Opened, error) {
	if token == "" {
		return Opened{}, missing("session")
	}
	id, ok := sessionOf(token)
	if !ok {
		return Opened{}, malformed("session")
	}
	rawID, _ := rawSessionID(id)
	state, err := newSessionToken(s.Random, rawID)
	if err != nil {
		return Opened{}, err
	}
	now := s.Now()
	expires := now.Add(s.StateTTL)
	sess, err := s.Sessions.Open(ctx, id, StateKey(token), StateKey(state), now, expires)
	switch {
	case errors.Is(err, ErrSessionNotFound), errors.Is(err, ErrSessionUsed), errors.Is(err, ErrSessionExpired):
		return Opened{}, err
	case err != nil:
		return Opened{}, fmt.Errorf("%w: open session: %w", ErrStorage, err)
	}
	out := Opened{Issued: Issued{State: state, ExpiresAt: expires}, SessionID: id}
	if sess.AmazonCallbackURI != "" {
		u, err := url.Parse(sess.AmazonCallbackURI)
		if err != nil {
			return Opened{}, fmt.Errorf("stored amazon_callback_uri: %w", err)
		}
		out.RedirectURL = s.continueAtAmazon(u, sess.AmazonState, state, "")
		return out, nil
	}
	m, ok := amazon.LookupMarketplace(sess.Marketplace)
	if !ok {
		return Opened{}, fmt.Errorf("stored marketplace %q unknown", sess.Marketplace)
	}
	out.RedirectURL, err = s.Consent.URL(m, sess.AccountType, state)
	if err != nil {
		return Opened{}, fmt.Errorf("consent url: %w", err)
	}
	return out, nil
}

// continueAtAmazon is the log-in step's redirect: back to Amazon's callback with Amazon's own
// state, ours, and the redirect URI and draft marker.
func (s *Service) continueAtAmazon(callback *url.URL, amazonState, state, version string) string {
	q := callback.Query()
	q.Set("amazon_state", amazonState)
	q.Set("state", state)
	if s.Consent.RedirectURI != "" {
		q.Set("redirect_uri", s.Consent.RedirectURI)
	}
	if s.Consent.Draft || version == "beta" {
		q.Set("version", "beta")
	}
	u := *callback
	u.RawQuery = q.Encode()
	return u.String()
}
