package lwa

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultTokenURL is LWA's token endpoint; it is the same for every SP-API region.
const DefaultTokenURL = "https://api.amazon.com/auth/o2/token"

const (
	defaultTimeout = 10 * time.Second
	// minAttempt is the least time left before the caller's deadline worth another attempt.
	minAttempt         = time.Second
	defaultMaxAttempts = 3

	grantAuthorizationCode = "authorization_code"
	grantRefreshToken      = "refresh_token"
	grantClientCredentials = "client_credentials"
)

// ParseTokenURL checks the token endpoint a function is configured with, v (LWA_TOKEN_URL), and
// returns it, or DefaultTokenURL when v is empty; the result goes into Client.TokenURL. Every
// request to it carries the client secret, so it must be an absolute https URL; plain http is
// allowed only on a loopback host (the local sandbox), where nothing crosses a network. A typo
// such as http://api.amazon.com would otherwise send the secret in clear.
func ParseTokenURL(v string) (string, error) {
	if v == "" {
		return DefaultTokenURL, nil
	}
	u, err := url.Parse(v)
	switch {
	case err != nil || u.Host == "" || u.User != nil || u.Fragment != "":
		return "", errors.New("LWA_TOKEN_URL must be an absolute URL without userinfo or fragment")
	case u.Scheme == "https":
		return v, nil
	case u.Scheme == "http" && loopback(u.Hostname()):
		return v, nil
	default:
		return "", errors.New("LWA_TOKEN_URL must use https (http only on a loopback host such as 127.0.0.1)")
	}
}

// loopback reports whether host names this machine.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Client asks LWA's token endpoint for tokens. Its fields may be changed after New and before
// first use; a Client is safe for concurrent use.
type Client struct {
	// TokenURL is the token endpoint, normally DefaultTokenURL. It must carry no secrets: it
	// may appear in error messages.
	TokenURL string
	// HTTPClient sends the requests. It should have a Timeout; if it has none, each attempt
	// gets a 10 s deadline anyway.
	HTTPClient *http.Client
	// Credentials supplies the client ID and secret, sent in the form body as Amazon documents.
	Credentials CredentialSource
	// MaxAttempts is the number of attempts for failures worth retrying (429, 5xx,
	// server_error, temporarily_unavailable, network errors, timeouts); 0 means 3.
	MaxAttempts int
	// Backoff says how long to wait after the failed attempt number attempt (1, 2, …) before the
	// next. nil means exponential backoff with full jitter: base 200 ms, cap 2 s. A Retry-After
	// header in seconds takes its place, capped at 2 s.
	Backoff func(attempt int) time.Duration

	retries atomic.Int64
}

// Retries is how many times this Client has retried a request, for a run's summary.
func (c *Client) Retries() int64 { return c.retries.Load() }

// New returns a Client for tokenURL with an HTTP client that times out after 10 s, keeps
// connections alive between calls (warm Lambdas reuse them), and does not follow redirects, so
// the form with the client secret is only ever sent to tokenURL.
func New(tokenURL string, creds CredentialSource) *Client {
	var transport *http.Transport
	if dt, ok := http.DefaultTransport.(*http.Transport); ok {
		transport = dt.Clone()
	} else {
		transport = &http.Transport{Proxy: http.ProxyFromEnvironment, ForceAttemptHTTP2: true}
	}
	transport.MaxIdleConnsPerHost = 16
	transport.IdleConnTimeout = 90 * time.Second
	return &Client{
		TokenURL: tokenURL,
		HTTPClient: &http.Client{
			Timeout:   defaultTimeout,
			Transport: transport,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
		Credentials: creds,
		MaxAttempts: defaultMaxAttempts,
		Backoff:     defaultBackoff,
	}
}

// ExchangeCode exchanges a seller's spapi_oauth_code for an access token and a refresh token
// (grant_type=authorization_code). redirectURI must be the redirect_uri sent to the consent page,
// or "" if none was sent; it is only sent to LWA when non-empty. A code works once and for five
// minutes: an invalid_grant answer is never retried (see IsInvalidGrant).
func (c *Client) ExchangeCode(ctx context.Context, code, redirectURI string) (Token, error) {
	if code == "" {
		return Token{}, errors.New("lwa token request (authorization_code): empty code")
	}
	form := url.Values{"grant_type": {grantAuthorizationCode}, "code": {code}}
	if redirectURI != "" {
		form.Set("redirect_uri", redirectURI)
	}
	tok, err := c.token(ctx, form, code)
	if err != nil {
		return Token{}, err
	}
	if tok.RefreshToken == "" {
		return Token{}, fmt.Errorf("lwa token request (authorization_code): %w: the answer has no refresh_token", ErrUnavailable)
	}
	return tok, nil
}

// Refresh gets a new access token for refreshToken (grant_type=refresh_token). The returned
// Token carries the refresh token LWA answered with, or refreshToken if it answered with none
// (it normally comes back unchanged). An invalid_grant answer means the seller revoked the app.
func (c *Client) Refresh(ctx context.Context, refreshToken string) (Token, error) {
	if refreshToken == "" {
		return Token{}, errors.New("lwa token request (refresh_token): empty refresh token")
	}
	form := url.Values{"grant_type": {grantRefreshToken}, "refresh_token": {refreshToken}}
	tok, err := c.token(ctx, form, refreshToken)
	if err != nil {
		return Token{}, err
	}
	if tok.RefreshToken == "" {
		tok.RefreshToken = refreshToken
	}
	return tok, nil
}

// Grantless gets an access token for the app itself (grant_type=client_credentials, e.g. scope
// sellingpartnerapi::notifications) with exactly creds: no refetch on invalid_client. The
// rotation function uses it to check a new client secret with LWA before storing it.
func (c *Client) Grantless(ctx context.Context, creds Credentials, scope string) (Token, error) {
	form := url.Values{"grant_type": {grantClientCredentials}, "scope": {scope}}
	tok, err := c.attempts(ctx, form, creds, "")
	if err != nil {
		return Token{}, fmt.Errorf("lwa token request (%s): %w", grantClientCredentials, err)
	}
	return tok, nil
}

// token runs one grant: with the current credentials, and once more with refetched ones if LWA
// says invalid_client and the source has newer ones (the secret was rotated). grantSecret is the
// code or refresh token, redacted from anything LWA might echo.
func (c *Client) token(ctx context.Context, form url.Values, grantSecret string) (Token, error) {
	grant := form.Get("grant_type")
	wrap := func(err error) error { return fmt.Errorf("lwa token request (%s): %w", grant, err) }
	if c.Credentials == nil {
		return Token{}, wrap(errors.New("no credential source"))
	}
	creds, err := c.Credentials.Credentials(ctx)
	if err != nil {
		return Token{}, wrap(fmt.Errorf("%w: %w", ErrNoCredentials, err))
	}
	tok, err := c.attempts(ctx, form, creds, grantSecret)
	if err == nil {
		return tok, nil
	}
	if !IsInvalidClient(err) {
		return Token{}, wrap(err)
	}
	fresh, ferr := c.Credentials.Refetch(ctx, creds)
	if ferr != nil {
		return Token{}, wrap(fmt.Errorf("%w; then refetching client credentials failed: %w", err, ferr))
	}
	if fresh == creds {
		return Token{}, wrap(fmt.Errorf("%w (no newer client credentials)", err))
	}
	tok, err = c.attempts(ctx, form, fresh, grantSecret)
	if err != nil {
		return Token{}, wrap(fmt.Errorf("with refetched client credentials: %w", err))
	}
	return tok, nil
}

// attempts sends the request up to MaxAttempts times while the failures are worth retrying.
func (c *Client) attempts(ctx context.Context, form url.Values, creds Credentials, grantSecret string) (Token, error) {
	if creds.ClientID == "" || creds.ClientSecret == "" {
		return Token{}, errors.New("client credentials are incomplete")
	}
	body := maps.Clone(form)
	body.Set("client_id", creds.ClientID)
	body.Set("client_secret", creds.ClientSecret)
	encoded := body.Encode()
	secrets := []string{grantSecret, creds.ClientSecret}

	maxAttempts := c.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = defaultMaxAttempts
	}
	// uncertain is set once an attempt may have reached LWA without us seeing the answer: a code
	// it consumed makes the next attempt fail with invalid_grant, which then needs explaining.
	uncertain := false
	for attempt := 1; ; attempt++ {
		tok, err := c.once(ctx, encoded, secrets)
		if err == nil {
			return tok, nil
		}
		var retry *retryableError
		if !errors.As(err, &retry) {
			if uncertain && form.Get("grant_type") == grantAuthorizationCode && IsInvalidGrant(err) {
				err = fmt.Errorf("%w (an earlier attempt got no clear answer and may have used the code)", err)
			}
			return Token{}, err
		}
		uncertain = true
		if attempt >= maxAttempts {
			return Token{}, fmt.Errorf("%w after %d attempts: %w", ErrUnavailable, attempt, retry.err)
		}
		wait := retry.retryAfter
		if wait < 0 {
			wait = c.backoff(attempt)
		}
		// Another attempt only if it has time to get an answer, not merely to start.
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait+minAttempt {
			return Token{}, fmt.Errorf("%w after %d attempts (no time left for another): %w", ErrUnavailable, attempt, retry.err)
		}
		c.retries.Add(1)
		if err := sleep(ctx, wait); err != nil {
			return Token{}, fmt.Errorf("waiting to retry: %w (after %d attempts; last: %w)", err, attempt, retry.err)
		}
	}
}

func (c *Client) backoff(attempt int) time.Duration {
	if c.Backoff != nil {
		return c.Backoff(attempt)
	}
	return defaultBackoff(attempt)
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retryableError marks a failure of one attempt that another attempt may not have.
type retryableError struct {
	err error
	// retryAfter is the wait LWA asked for, or -1 when it asked for none.
	retryAfter time.Duration
}

func (e *retryableError) Error() string { return e.err.Error() }
func (e *retryableError) Unwrap() error { return e.err }

func (c *Client) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return defaultHTTPClient()
}

// defaultHTTPClient serves a Client built without New. It is made on first use, not at package
// initialisation, which every cold start of every function would pay for.
var defaultHTTPClient = sync.OnceValue(func() *http.Client { return New(DefaultTokenURL, nil).HTTPClient })

// once sends the request once and reads the answer.
func (c *Client) once(ctx context.Context, encoded string, secrets []string) (Token, error) {
	hc := c.httpClient()
	reqCtx := ctx
	if hc.Timeout <= 0 {
		var cancel context.CancelFunc
		reqCtx, cancel = context.WithTimeout(ctx, defaultTimeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(reqCtx, http.MethodPost, c.TokenURL, strings.NewReader(encoded))
	if err != nil {
		return Token{}, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return Token{}, err // the caller gave up; not LWA's failure
		}
		return Token{}, &retryableError{err: err, retryAfter: -1}
	}
	return readAnswer(ctx, resp, secrets)
}
