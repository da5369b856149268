package authflow

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/sellerauth/sellerauth/internal/amazon"
)

// LoginRequest is Amazon's call of our log-in URI, plus the browser's state cookie.
type LoginRequest struct {
	CallbackURI      string // amazon_callback_uri
	AmazonState      string // amazon_state
	SellingPartnerID string // optional
	Version          string // "beta" in a test flow
	Cookie           string // "" when the browser sent none (Appstore-initiated flow)
	// Referrer is the origin of the page that sent the browser here (the Referer header), if
	// any. For an Appstore-initiated flow with a relative amazon_callback_uri it names the
	// Seller or Vendor Central the seller came from; only a known Amazon origin is used.
	Referrer string
}

// LoginResult says where to send the browser; New is set when a new state was issued, whose
// value must replace the browser's cookie.
type LoginResult struct {
	RedirectURL string
	New         *Issued
}

// Login handles Amazon's log-in URI step. In the website flow the browser carries the cookie of a
// live state and we send that state on; in the Appstore-initiated flow (or after the cookie
// expired) we issue a new one. The seller may have consented in another region than the one they
// clicked: Amazon's callback host is the truth, so a state of another region is replaced.
func (s *Service) Login(ctx context.Context, r LoginRequest) (LoginResult, error) {
	if err := r.validate(); err != nil {
		return LoginResult{}, err
	}
	now := s.Now()
	if id, ok := sessionOf(r.Cookie); ok {
		sess, err := s.Sessions.State(ctx, id, StateKey(r.Cookie), now)
		switch {
		case err == nil:
			return s.sessionLogin(ctx, r, sess)
		case !errors.Is(err, ErrStateNotFound):
			return LoginResult{}, fmt.Errorf("%w: get session: %w", ErrStorage, err)
		}
	}
	if !s.Anonymous {
		return s.signInAtApp(r)
	}
	var (
		pending PendingState
		live    bool
	)
	if r.Cookie != "" && wellFormedState(r.Cookie) {
		p, err := s.States.Get(ctx, StateKey(r.Cookie), now)
		switch {
		case err == nil:
			pending, live = p, true
		case errors.Is(err, ErrStateNotFound):
		default:
			return LoginResult{}, fmt.Errorf("%w: get state: %w", ErrStorage, err)
		}
	}
	base, err := s.baseOrigin(pending, live, r.Referrer)
	if err != nil {
		return LoginResult{}, err
	}
	callback, err := s.resolveCallback(r.CallbackURI, base)
	if err != nil {
		return LoginResult{}, err
	}
	region, accountType := s.regionOf(callback, pending, live)
	var res LoginResult
	state := r.Cookie
	if !live || pending.Region != region || pending.AccountType != accountType {
		flow := FlowAppstore
		marketplace := ""
		if live {
			flow, marketplace = pending.Flow, pending.Marketplace
		}
		issued, err := s.issue(ctx, marketplace, region, accountType, flow)
		if err != nil {
			return LoginResult{}, err
		}
		state, res.New = issued.State, &issued
	}
	res.RedirectURL = s.continueAtAmazon(callback, r.AmazonState, state, r.Version)
	return res, nil
}

func (s *Service) resolveCallback(raw, base string) (*url.URL, error) {
	callback, err := amazon.ResolveCallbackURI(raw, base, s.Consent.OriginOverride)
	switch {
	case errors.Is(err, amazon.ErrUntrustedCallback):
		return nil, fmt.Errorf("%w: %w", ErrUntrustedCallback, err)
	case err != nil:
		return nil, fmt.Errorf("resolve amazon_callback_uri: %w", err)
	}
	return callback, nil
}

// sessionLogin is the log-in step of a session's flow: the browser holds the session's state,
// which goes on unchanged. When Amazon's host names another region or account type than the
// session asked for, the session follows Amazon (where the seller consented is the truth).
func (s *Service) sessionLogin(ctx context.Context, r LoginRequest, sess Session) (LoginResult, error) {
	m, ok := amazon.LookupMarketplace(sess.Marketplace)
	if !ok {
		m = s.DefaultMarketplace
	}
	base, err := m.Origin(sess.AccountType)
	if err != nil {
		base = m.SellerCentral
	}
	if s.Consent.OriginOverride != "" {
		base = s.Consent.OriginOverride
	}
	callback, err := s.resolveCallback(r.CallbackURI, base)
	if err != nil {
		return LoginResult{}, err
	}
	if region, t, ok := amazon.LookupOrigin(callback.Scheme + "://" + callback.Host); ok &&
		(region != sess.Region || t != sess.AccountType) {
		if err := s.Sessions.Retarget(ctx, sess.ID, sess.StateKey, region, t); err != nil {
			return LoginResult{}, fmt.Errorf("%w: retarget session: %w", ErrStorage, err)
		}
	}
	return LoginResult{RedirectURL: s.continueAtAmazon(callback, r.AmazonState, r.Cookie, r.Version)}, nil
}

// signInAtApp hands an Appstore-started flow to the app (APP_SIGN_IN_URL) when authorizations
// need a session: the app signs its user in and creates a session carrying Amazon's values. Only
// an Amazon callback URI is passed on, so that this is no open redirect by proxy.
func (s *Service) signInAtApp(r LoginRequest) (LoginResult, error) {
	if s.AppSignInURL == "" {
		return LoginResult{}, ErrSessionRequired
	}
	base, err := s.baseOrigin(PendingState{}, false, r.Referrer)
	if err != nil {
		return LoginResult{}, err
	}
	callback, err := s.resolveCallback(r.CallbackURI, base)
	if err != nil {
		return LoginResult{}, err
	}
	u, err := url.Parse(s.AppSignInURL)
	if err != nil {
		return LoginResult{}, fmt.Errorf("APP_SIGN_IN_URL: %w", err)
	}
	q := u.Query()
	// Resolved here, where the Referer is known: the session resolves nothing relative.
	q.Set("amazon_callback_uri", callback.String())
	q.Set("amazon_state", r.AmazonState)
	if r.SellingPartnerID != "" {
		q.Set("selling_partner_id", r.SellingPartnerID)
	}
	if r.Version != "" {
		q.Set("version", r.Version)
	}
	u.RawQuery = q.Encode()
	return LoginResult{RedirectURL: u.String()}, nil
}

// baseOrigin is what a relative amazon_callback_uri is resolved against: the origin the seller
// was sent to; for an Appstore-initiated flow the Amazon origin the browser came from, else the
// default marketplace's Seller Central.
func (s *Service) baseOrigin(p PendingState, live bool, referrer string) (string, error) {
	if s.Consent.OriginOverride != "" {
		return s.Consent.OriginOverride, nil
	}
	if !live {
		if u, err := url.Parse(referrer); err == nil && u.Host != "" {
			origin := u.Scheme + "://" + u.Host
			if _, _, ok := amazon.LookupOrigin(origin); ok {
				return origin, nil
			}
		}
	}
	m, t := s.DefaultMarketplace, amazon.Seller
	if live {
		if pm, ok := amazon.LookupMarketplace(p.Marketplace); ok {
			m = pm
		}
		t = p.AccountType
	}
	origin, err := m.Origin(t)
	if err != nil {
		return m.SellerCentral, nil
	}
	return origin, nil
}

// regionOf takes region and account type from the Seller/Vendor Central host Amazon sent us to.
// Behind the sandbox's single origin the host says nothing, so the state's (or the default) holds.
func (s *Service) regionOf(callback *url.URL, p PendingState, live bool) (amazon.Region, amazon.AccountType) {
	if region, t, ok := amazon.LookupOrigin(callback.Scheme + "://" + callback.Host); ok {
		return region, t
	}
	if live {
		return p.Region, p.AccountType
	}
	return s.DefaultMarketplace.Region, amazon.Seller
}

func (r LoginRequest) validate() error {
	switch {
	case r.CallbackURI == "":
		return missing("amazon_callback_uri")
	case len(r.CallbackURI) > 2048:
		return malformed("amazon_callback_uri")
	case r.AmazonState == "":
		return missing("amazon_state")
	case len(r.AmazonState) > 2048 || !printableASCII(r.AmazonState):
		return malformed("amazon_state")
	case r.SellingPartnerID != "" && !validSellingPartnerID(r.SellingPartnerID):
		return malformed("selling_partner_id")
	case r.Version != "" && r.Version != "beta":
		return malformed("version")
	}
	return nil
}

// printableASCII reports whether s has only visible ASCII: Amazon's opaque amazon_state is sent
// back untouched, so we accept any such value but nothing that could split a header or a URL.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
