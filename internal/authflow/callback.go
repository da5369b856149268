package authflow

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sellerauth/sellerauth/internal/amazon"
	"github.com/sellerauth/sellerauth/internal/lwa"
)

// CodeExchanger trades an spapi_oauth_code for tokens at Login with Amazon. *lwa.Client is one.
type CodeExchanger interface {
	ExchangeCode(ctx context.Context, code, redirectURI string) (lwa.Token, error)
}

// CallbackRequest is what Amazon's redirect brought, plus the browser's state cookie.
type CallbackRequest struct {
	State            string
	Cookie           string // "" when the browser sent none
	SellingPartnerID string
	Code             string
	MWSAuthToken     string // hybrid apps only
}

// Completed describes a stored authorization, safe to show and to log.
type Completed struct {
	SellingPartnerID string
	Region           string
	AccountType      string
	// Set for a session's flow: where the browser goes back to (ReturnURL "" for the default)
	// and whose connection it is.
	SessionID string
	ReturnURL string
	EndUserID string
}

// validSellingPartnerID matches ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$: Amazon's merchant and vendor
// group IDs are short ASCII identifiers; anything else is refused before it reaches storage or a
// page. Written out rather than as a package-level regexp, whose compilation (the bounded
// repetitions) cost a cold start about 2 ms.
func validSellingPartnerID(s string) bool {
	if len(s) < 1 || len(s) > 64 || !alnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !alnum(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// validOpaque matches ^[A-Za-z0-9._~+/=|-]{1,512}$: codes and MWS tokens are opaque; bound their
// alphabet and size so junk never reaches LWA.
func validOpaque(s string) bool {
	if len(s) < 1 || len(s) > 512 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !alnum(c) && !strings.ContainsRune("._~+/=|-", rune(c)) {
			return false
		}
	}
	return true
}

func alnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// Callback completes an authorization at our redirect URI: the state must match the browser's
// cookie, be live and unused; it is consumed in one atomic call before the code is exchanged, so
// a replayed or double-submitted callback can never exchange twice. A session's state is the
// session itself: its outcome is written with the tokens, in one atomic call.
func (s *Service) Callback(ctx context.Context, r CallbackRequest) (Completed, error) {
	if err := r.validate(); err != nil {
		return Completed{}, err
	}
	if r.Cookie == "" {
		return Completed{}, ErrMissingCookie
	}
	if !sameState(r.State, r.Cookie) {
		return Completed{}, ErrStateMismatch
	}
	if id, ok := sessionOf(r.State); ok {
		return s.sessionCallback(ctx, r, id)
	}
	if !s.Anonymous {
		return Completed{}, ErrSessionRequired
	}
	now := s.Now()
	pending, err := s.States.Consume(ctx, StateKey(r.State), now)
	switch {
	case errors.Is(err, ErrStateNotFound), errors.Is(err, ErrStateExpired):
		return Completed{}, err
	case err != nil:
		return Completed{}, fmt.Errorf("%w: consume state: %w", ErrStorage, err)
	}
	tok, err := s.Exchanger.ExchangeCode(ctx, r.Code, s.Consent.RedirectURI)
	if err != nil {
		return Completed{}, classifyLWA(err)
	}
	a := authorization(r, pending.Region, pending.AccountType, tok, now)
	switch err := s.Tokens.SaveAuthorization(ctx, a); {
	case errors.Is(err, ErrNewerAuthorization):
		// Another callback for this seller and region finished after ours began: what is stored is
		// newer and valid, so the seller is authorized all the same.
	case errors.Is(err, ErrConnectedToAnotherUser):
		return Completed{}, err
	case err != nil:
		return Completed{}, fmt.Errorf("%w: save tokens: %w", ErrStorage, err)
	}
	return Completed{
		SellingPartnerID: r.SellingPartnerID,
		Region:           string(pending.Region),
		AccountType:      string(pending.AccountType),
	}, nil
}

func authorization(r CallbackRequest, region amazon.Region, t amazon.AccountType, tok lwa.Token, now time.Time) Authorization {
	return Authorization{
		SellingPartnerID:     r.SellingPartnerID,
		Region:               region,
		AccountType:          t,
		RefreshToken:         tok.RefreshToken,
		AccessToken:          tok.AccessToken,
		AccessTokenExpiresAt: now.Add(tok.ExpiresIn),
		AuthorizedAt:         now,
		MWSAuthToken:         r.MWSAuthToken,
	}
}

// sessionCallback completes a session's flow: consume (one call), exchange (LWA), then the
// tokens, the replaced refresh token and the session's outcome in one atomic call. A refusal or a
// failure after the session was consumed is recorded on the session, so that the app's backend
// learns it; the owner's item is never touched by a refusal.
func (s *Service) sessionCallback(ctx context.Context, r CallbackRequest, id string) (Completed, error) {
	now := s.Now()
	key := StateKey(r.State)
	sess, err := s.Sessions.Consume(ctx, id, key, now)
	switch {
	case errors.Is(err, ErrStateNotFound), errors.Is(err, ErrStateExpired):
		return Completed{}, err
	case err != nil:
		return Completed{}, fmt.Errorf("%w: consume session: %w", ErrStorage, err)
	}
	done := Completed{
		SellingPartnerID: r.SellingPartnerID,
		Region:           string(sess.Region),
		AccountType:      string(sess.AccountType),
		SessionID:        sess.ID,
		ReturnURL:        sess.ReturnURL,
		EndUserID:        sess.EndUserID,
	}
	outcome := SessionOutcome{
		Status: SessionConnected, SellingPartnerID: r.SellingPartnerID,
		Region: sess.Region, AccountType: sess.AccountType, At: now,
	}
	fail := func(code string, cause error) (Completed, error) {
		o := outcome
		o.Status, o.Error = SessionFailed, code
		if conflict := (*ConflictError)(nil); errors.As(cause, &conflict) {
			o.OwnerEndUserID = conflict.Owner
		}
		if err := s.Sessions.Finish(ctx, sess.ID, key, o); err != nil {
			// The seller still learns what went wrong; the session reads as expired later.
			cause = fmt.Errorf("%w (and recording it on the session failed: %w)", cause, err)
		}
		return done, cause
	}
	tok, err := s.Exchanger.ExchangeCode(ctx, r.Code, s.Consent.RedirectURI)
	if err != nil {
		err = classifyLWA(err)
		return fail(sessionErrorCode(err), err)
	}
	a := authorization(r, sess.Region, sess.AccountType, tok, now)
	a.EndUserID = sess.EndUserID
	a.Session = &SessionRef{ID: sess.ID, StateKey: key, Outcome: outcome}
	switch err := s.Tokens.SaveAuthorization(ctx, a); {
	case err == nil:
	case errors.Is(err, ErrConnectedToAnotherUser):
		return fail(SessionErrConnectedToAnotherUser, err)
	case errors.Is(err, ErrNewerAuthorization):
		// A later authorization of the same seller by the same user is stored: connected.
		if err := s.Sessions.Finish(ctx, sess.ID, key, outcome); err != nil {
			return done, fmt.Errorf("%w: record session outcome: %w", ErrStorage, err)
		}
	default:
		return done, fmt.Errorf("%w: save tokens: %w", ErrStorage, err)
	}
	return done, nil
}

// sessionErrorCode is the stable code a failed session reports for a callback error.
func sessionErrorCode(err error) string {
	switch {
	case errors.Is(err, ErrCodeRejected):
		return SessionErrCodeRejected
	case errors.Is(err, ErrAmazonUnavailable):
		return SessionErrAmazonUnavailable
	default:
		return SessionErrAppMisconfigured
	}
}

func (r CallbackRequest) validate() error {
	switch {
	case r.State == "":
		return missing("state")
	case !wellFormedState(r.State):
		return malformed("state")
	case r.SellingPartnerID == "":
		return missing("selling_partner_id")
	case !validSellingPartnerID(r.SellingPartnerID):
		return malformed("selling_partner_id")
	case r.Code == "":
		return missing("spapi_oauth_code")
	case !validOpaque(r.Code):
		return malformed("spapi_oauth_code")
	case r.MWSAuthToken != "" && !validOpaque(r.MWSAuthToken):
		return malformed("mws_auth_token")
	}
	return nil
}

// classifyLWA turns a token endpoint failure into the flow's errors, keeping the cause for logs.
func classifyLWA(err error) error {
	switch {
	case lwa.IsInvalidGrant(err):
		return fmt.Errorf("%w: %w", ErrCodeRejected, err)
	case lwa.IsInvalidClient(err):
		return fmt.Errorf("%w: %w", ErrAppCredentials, err)
	case errors.Is(err, lwa.ErrNoCredentials):
		return fmt.Errorf("%w: %w", ErrCredentialsUnavailable, err)
	case errors.Is(err, lwa.ErrUnavailable):
		return fmt.Errorf("%w: %w", ErrAmazonUnavailable, err)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		// The request ran out of time while LWA had not answered: Amazon was too slow, not the
		// app's credentials wrong.
		return fmt.Errorf("%w: %w", ErrAmazonUnavailable, err)
	default:
		// Other protocol errors (invalid_request, unauthorized_client...) mean our request or the
		// app's setup is wrong: the seller cannot fix it, the operator must.
		return fmt.Errorf("%w: exchange code: %w", ErrAppCredentials, err)
	}
}
