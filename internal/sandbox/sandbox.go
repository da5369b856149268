package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"maps"
	"net/http"
	"sync"
	"time"
)

// TokenPath is the path of the LWA token endpoint, as in https://api.amazon.com/auth/o2/token.
const TokenPath = "/auth/o2/token"

const (
	defaultCodeTTL        = 5 * time.Minute
	defaultAccessTokenTTL = time.Hour
	// sweepEvery is how many issued codes or access tokens pass between purges of expired ones,
	// so that long load tests do not grow the maps without bound.
	sweepEvery = 1024
)

// Options configure a Sandbox.
type Options struct {
	// ClientID and ClientSecret are the registered LWA client credentials; any other gets
	// invalid_client. Empty values never authenticate.
	ClientID, ClientSecret string
	// Now is the clock for code and token expiry; nil means time.Now.
	Now func() time.Time
	// CodeTTL is how long an authorization code works; 0 means 5 minutes, as at Amazon.
	CodeTTL time.Duration
	// AccessTokenTTL is the access token lifetime; 0 means 1 hour (expires_in 3600).
	AccessTokenTTL time.Duration
	// App is the application the consent pages (ConsentPath) know; without an ApplicationID
	// every consent URL gets MD1000.
	App App
	// Notify, if set, receives the SP-API notifications Amazon would send to the SQS queue
	// registered in the Developer Console: the message body (JSON) of each, such as the
	// APPLICATION_OAUTH_CLIENT_NEW_SECRET of RotateClientSecret. Its error is shown on the admin page.
	Notify func(ctx context.Context, body []byte) error
}

// Sandbox is an in-memory LWA. It is safe for concurrent use.
type Sandbox struct {
	clientID       string
	now            func() time.Time
	codeTTL        time.Duration
	accessTokenTTL time.Duration
	handler        http.Handler

	mu sync.Mutex
	// secrets holds the current client secret and, between RotateSecret and RetireOldSecret,
	// the previous one.
	secrets       []string
	codes         map[string]codeGrant
	refreshTokens map[string]string // refresh token -> selling partner ID
	latestRefresh map[string]string // selling partner ID -> newest refresh token
	accessTokens  map[string]time.Time
	issued        int // codes and access tokens issued since the last sweep
	faults        []Fault
	faultShare    float64
	shareFault    Fault
	latency       time.Duration
	stats         Stats

	// notify delivers SP-API notifications of the subscription subscriptionID; rotation is the
	// last RotateClientSecret.
	notify         func(ctx context.Context, body []byte) error
	subscriptionID string
	rotation       SecretRotation

	app        App
	directFlow bool
	pending    map[string]pendingConsent // consent ID -> Confirm waiting for the log-in URI step
	consents   map[string]consentRecord  // selling partner ID -> newest consent
}

type codeGrant struct {
	sellingPartnerID string
	checkRedirect    bool
	redirectURI      string
	expiresAt        time.Time
	used             bool
}

// Stats counts what the token endpoint saw.
type Stats struct {
	// TokenRequests counts every request to the token endpoint, faulted ones included.
	TokenRequests int
	// CodeExchanges counts successful authorization_code grants.
	CodeExchanges int
	// Refreshes counts successful refresh_token grants.
	Refreshes int
	// ClientCredentials counts successful client_credentials grants.
	ClientCredentials int
	// Faults counts requests that an injected or random fault acted on.
	Faults int
	// Errors counts error answers by their error code, including those of faults.
	Errors map[string]int
}

// New returns a Sandbox that knows the client credentials of opts.
func New(opts Options) *Sandbox {
	s := &Sandbox{
		clientID:       opts.ClientID,
		now:            opts.Now,
		codeTTL:        opts.CodeTTL,
		accessTokenTTL: opts.AccessTokenTTL,
		secrets:        []string{opts.ClientSecret},
		notify:         opts.Notify,
		subscriptionID: newUUID(),
		codes:          make(map[string]codeGrant),
		refreshTokens:  make(map[string]string),
		latestRefresh:  make(map[string]string),
		accessTokens:   make(map[string]time.Time),
		stats:          Stats{Errors: make(map[string]int)},
		app:            opts.App,
		pending:        make(map[string]pendingConsent),
		consents:       make(map[string]consentRecord),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.codeTTL <= 0 {
		s.codeTTL = defaultCodeTTL
	}
	if s.accessTokenTTL <= 0 {
		s.accessTokenTTL = defaultAccessTokenTTL
	}
	mux := http.NewServeMux()
	mux.HandleFunc(TokenPath, s.serveToken)
	s.registerConsentRoutes(mux)
	s.handler = mux
	return s
}

// Handler serves the token endpoint at TokenPath, the consent pages at ConsentPath and
// ConfirmPathPrefix, the Appstore page at AppstorePath, the admin page at AdminPath, and 404 elsewhere.
func (s *Sandbox) Handler() http.Handler { return s.handler }

// IssueCode returns a fresh authorization code for the seller, as Seller Central puts it in
// spapi_oauth_code after consent. The code is exchanged with any redirect_uri, or none.
func (s *Sandbox) IssueCode(sellingPartnerID string) string {
	return s.issueCode(codeGrant{sellingPartnerID: sellingPartnerID})
}

// IssueCodeFor is IssueCode for a consent that used redirectURI: the code must then be exchanged
// with that same redirect_uri (with none if redirectURI is ""), else invalid_grant.
func (s *Sandbox) IssueCodeFor(sellingPartnerID, redirectURI string) string {
	return s.issueCode(codeGrant{sellingPartnerID: sellingPartnerID, checkRedirect: true, redirectURI: redirectURI})
}

func (s *Sandbox) issueCode(g codeGrant) string {
	code := newCode()
	s.mu.Lock()
	defer s.mu.Unlock()
	g.expiresAt = s.now().Add(s.codeTTL)
	s.codes[code] = g
	s.sweepLocked()
	return code
}

// RotateSecret makes newSecret the client secret. The previous secret keeps working until
// RetireOldSecret (at Amazon, about seven days); a secret older than that stops at once.
func (s *Sandbox) RotateSecret(newSecret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets = []string{newSecret, s.secrets[0]}
}

// RetireOldSecret ends the overlap: only the newest secret works from now on.
func (s *Sandbox) RetireOldSecret() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets = s.secrets[:1]
}

// Revoke is the seller removing the app: every refresh token of the seller gets invalid_grant
// from now on. Access tokens already issued live out their hour, and a new consent works again.
func (s *Sandbox) Revoke(sellingPartnerID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for tok, id := range s.refreshTokens {
		if id == sellingPartnerID {
			delete(s.refreshTokens, tok)
		}
	}
	delete(s.latestRefresh, sellingPartnerID)
}

// SetLatency adds d to every token request, before any fault's own delay.
func (s *Sandbox) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// Stats returns a copy of the counters.
func (s *Sandbox) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Errors = maps.Clone(s.stats.Errors)
	return st
}

// RefreshTokenOf returns the newest refresh token issued to the seller and not revoked.
func (s *Sandbox) RefreshTokenOf(sellingPartnerID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok, ok := s.latestRefresh[sellingPartnerID]
	return tok, ok
}

// AccessTokenValid reports whether accessToken was issued here and has not expired.
func (s *Sandbox) AccessTokenValid(accessToken string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.accessTokens[accessToken]
	return ok && s.now().Before(exp)
}

// sweepLocked purges expired codes and access tokens every sweepEvery issues.
func (s *Sandbox) sweepLocked() {
	s.issued++
	if s.issued < sweepEvery {
		return
	}
	s.issued = 0
	now := s.now()
	for code, g := range s.codes {
		if !now.Before(g.expiresAt) {
			delete(s.codes, code)
		}
	}
	for tok, exp := range s.accessTokens {
		if !now.Before(exp) {
			delete(s.accessTokens, tok)
		}
	}
}

// newCode returns an authorization code: 20 random letters after "AN", like Amazon's.
func newCode() string {
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 20)
	rand.Read(b)
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return "AN" + string(b)
}

// newToken returns prefix followed by 192 random bytes in URL-safe base64 (256 characters),
// about the size of Amazon's tokens.
func newToken(prefix string) string {
	b := make([]byte, 192)
	rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}
