package connect

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// signingName is the service API Gateway's IAM authorizer expects in the credential scope.
const signingName = "execute-api"

// maxResponseBytes bounds how much of an answer is read: the largest legitimate one, a list of
// connections, is far smaller, and an unbounded read would let a broken proxy exhaust memory.
const maxResponseBytes = 1 << 20

// defaultTimeout bounds a call when aws.Config brings no HTTP client: every call is one small
// request, so a stuck connection must not hang the caller forever.
const defaultTimeout = 30 * time.Second

// userAgent names the client in API Gateway's access logs.
const userAgent = "sellerauth-connect-go"

// executeAPIHost matches the default endpoint of an API Gateway API and captures its region.
var executeAPIHost = regexp.MustCompile(`^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$`)

// Client calls the connect API. It is safe for concurrent use.
type Client struct {
	base       *url.URL // the API's URL, without a trailing slash
	region     string
	creds      aws.CredentialsProvider
	httpClient aws.HTTPClient
	signer     *v4.Signer
	now        func() time.Time
	// err is a configuration error New could not return; every call returns it.
	err error
}

// Option changes a Client built by New.
type Option func(*Client)

// WithHTTPClient makes the client send its requests with h instead of cfg.HTTPClient; an
// *http.Client qualifies.
func WithHTTPClient(h aws.HTTPClient) Option {
	return func(c *Client) { c.httpClient = h }
}

// WithRegion makes the client sign for region instead of the one New infers, for an API behind a
// custom domain name in another region than cfg.Region.
func WithRegion(region string) Option {
	return func(c *Client) { c.region = region }
}

// WithClock makes the client sign requests at the times clock returns instead of the current
// time, which tests use to match a verifier's fixed clock.
func WithClock(clock func() time.Time) Option {
	return func(c *Client) { c.now = clock }
}

// New returns a client of the API at apiURL, the stack's ApiUrl output such as
// https://abc123.execute-api.eu-west-1.amazonaws.com; a trailing slash does not matter. The
// client signs with cfg.Credentials and sends with cfg.HTTPClient, or with an HTTP client with a
// 30-second timeout when cfg has none. It signs for the region in apiURL's host name when that is
// an execute-api host, since the API only accepts that one, and for cfg.Region otherwise.
// A configuration error (an invalid apiURL, missing credentials or region) is returned by every
// call rather than by New.
func New(cfg aws.Config, apiURL string, opts ...Option) *Client {
	c := &Client{
		region:     cfg.Region,
		creds:      cfg.Credentials,
		httpClient: cfg.HTTPClient,
		signer:     v4.NewSigner(),
		now:        time.Now,
	}
	c.base, c.err = parseAPIURL(apiURL)
	if c.err == nil {
		if m := executeAPIHost.FindStringSubmatch(c.base.Hostname()); m != nil {
			c.region = m[1]
		}
	}
	for _, opt := range opts {
		opt(c)
	}
	if c.httpClient == nil {
		c.httpClient = &http.Client{Timeout: defaultTimeout}
	}
	switch c.creds.(type) {
	case nil, aws.AnonymousCredentials, *aws.CredentialsCache:
	default:
		// As the SDK's own clients do: without a cache, a provider that assumes a role would
		// call STS for every request.
		c.creds = aws.NewCredentialsCache(c.creds)
	}
	if c.err == nil {
		switch {
		case c.creds == nil:
			c.err = errors.New("connect: aws.Config has no Credentials")
		case isAnonymous(c.creds):
			c.err = errors.New("connect: anonymous credentials cannot sign requests to an IAM-protected API")
		case c.region == "":
			c.err = errors.New("connect: no region: set aws.Config.Region or use WithRegion")
		}
	}
	return c
}

// isAnonymous reports whether p is the SDK's marker for unsigned requests, which API Gateway
// would refuse with a less helpful 403.
func isAnonymous(p aws.CredentialsProvider) bool {
	_, ok := p.(aws.AnonymousCredentials)
	return ok
}

// parseAPIURL checks that s is an absolute http(s) URL without query or fragment, and drops a
// trailing slash so that paths can be appended.
func parseAPIURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("connect: invalid API URL: %w", err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("connect: the API URL must be an http(s) URL without query, such as the stack's ApiUrl output, not %q", s)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = strings.TrimSuffix(u.RawPath, "/")
	return u, nil
}

// CreateSession starts an authorization for one of the app's users. Send the user's browser to
// the returned ConnectURL, then read the outcome with Session.
func (c *Client) CreateSession(ctx context.Context, in SessionInput) (NewSession, error) {
	var w struct {
		SessionID  string  `json:"session_id"`
		ConnectURL string  `json:"connect_url"`
		ExpiresAt  rfc3339 `json:"expires_at"`
	}
	if err := c.do(ctx, "CreateSession", http.MethodPost, "/connect/sessions", nil, in, &w); err != nil {
		return NewSession{}, err
	}
	return NewSession{SessionID: w.SessionID, ConnectURL: w.ConnectURL, ExpiresAt: w.ExpiresAt.time()}, nil
}

// Session reads where a connect session stands, and its outcome once it has one.
func (c *Client) Session(ctx context.Context, sessionID string) (SessionStatus, error) {
	if sessionID == "" {
		return SessionStatus{}, errors.New("connect: Session: empty session ID")
	}
	var w struct {
		SessionID        string  `json:"session_id"`
		EndUserID        string  `json:"end_user_id"`
		Status           Status  `json:"status"`
		SellingPartnerID string  `json:"selling_partner_id"`
		Region           string  `json:"region"`
		AccountType      string  `json:"account_type"`
		Error            string  `json:"error"`
		ExpiresAt        rfc3339 `json:"expires_at"`
	}
	if err := c.do(ctx, "Session", http.MethodGet, "/connect/sessions/"+url.PathEscape(sessionID), nil, nil, &w); err != nil {
		return SessionStatus{}, err
	}
	return SessionStatus{
		SessionID:        w.SessionID,
		EndUserID:        w.EndUserID,
		Status:           w.Status,
		SellingPartnerID: w.SellingPartnerID,
		Region:           w.Region,
		AccountType:      w.AccountType,
		Error:            w.Error,
		ExpiresAt:        w.ExpiresAt.time(),
	}, nil
}

// Connections lists the seller authorizations stored for an end user, one per seller and
// SP-API region; the list is empty when there are none.
func (c *Client) Connections(ctx context.Context, endUserID string) ([]Connection, error) {
	var w []struct {
		SellingPartnerID string           `json:"selling_partner_id"`
		Region           string           `json:"region"`
		AccountType      string           `json:"account_type"`
		Status           ConnectionStatus `json:"status"`
		AuthorizedAt     rfc3339          `json:"authorized_at"`
		ReauthorizeBy    rfc3339          `json:"reauthorize_by"`
	}
	q := url.Values{"end_user_id": {endUserID}}
	if err := c.do(ctx, "Connections", http.MethodGet, "/connections", q, nil, &w); err != nil {
		return nil, err
	}
	out := make([]Connection, 0, len(w))
	for _, x := range w {
		out = append(out, Connection{
			SellingPartnerID: x.SellingPartnerID,
			Region:           x.Region,
			AccountType:      x.AccountType,
			Status:           x.Status,
			AuthorizedAt:     x.AuthorizedAt.time(),
			ReauthorizeBy:    x.ReauthorizeBy.time(),
		})
	}
	return out, nil
}

// DisconnectOption changes a Disconnect call.
type DisconnectOption func(*disconnectOptions)

type disconnectOptions struct {
	endUserID string
}

// WithEndUser makes Disconnect remove the connection only if it belongs to endUserID, and
// fail with an error matching ErrConflict (code connected_to_another_user) otherwise: a guard
// against a backend bug that would disconnect another user's seller.
func WithEndUser(endUserID string) DisconnectOption {
	return func(o *disconnectOptions) { o.endUserID = endUserID }
}

// Disconnect removes the connection of a seller in an SP-API region (na, eu or fe) and forgets
// its refresh token. It returns an error matching ErrNotFound when there is no such connection.
func (c *Client) Disconnect(ctx context.Context, sellingPartnerID, region string, opts ...DisconnectOption) error {
	if sellingPartnerID == "" || region == "" {
		return errors.New("connect: Disconnect: empty selling partner ID or region")
	}
	var o disconnectOptions
	for _, opt := range opts {
		opt(&o)
	}
	var q url.Values
	if o.endUserID != "" {
		q = url.Values{"end_user_id": {o.endUserID}}
	}
	path := "/connections/" + url.PathEscape(sellingPartnerID) + "/" + url.PathEscape(region)
	return c.do(ctx, "Disconnect", http.MethodDelete, path, q, nil, nil)
}

// do sends one signed request and decodes a 2xx answer into out (when not nil) or returns the
// *APIError of any other. path must already be escaped. Errors other than *APIError are
// prefixed with the operation, never with the answer's body, which may hold a connect token.
func (c *Client) do(ctx context.Context, op, method, path string, query url.Values, in, out any) error {
	if c.err != nil {
		return c.err
	}
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("connect: %s: %w", op, err)
		}
	}

	u := *c.base
	u.Path += mustUnescape(path)
	u.RawPath = c.base.EscapedPath() + path
	if query != nil {
		u.RawQuery = query.Encode()
	}
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), reader)
	if err != nil {
		return fmt.Errorf("connect: %s: %w", op, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("connect: %s: retrieve AWS credentials: %w", op, err)
	}
	// The payload hash is that of the exact bytes sent, the empty string's for a bodiless
	// request, so that API Gateway can tell a body changed on the way.
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), signingName, c.region, c.now()); err != nil {
		return fmt.Errorf("connect: %s: sign request: %w", op, err)
	}

	resp, err := c.httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("connect: %s: %w", op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return fmt.Errorf("connect: %s: read response: %w", op, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return apiError(resp, data)
	}
	if len(data) > maxResponseBytes {
		return fmt.Errorf("connect: %s: response larger than %d bytes", op, maxResponseBytes)
	}
	if out == nil {
		return nil
	}
	// encoding/json's errors (and rfc3339's) name types, fields and offsets but not string
	// values, so the connect URL cannot leak through them.
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("connect: %s: decode response (HTTP %d): %w", op, resp.StatusCode, err)
	}
	return nil
}

// rfc3339 is a time the API sends as RFC 3339 text. The API sends "" for a time it does not
// know (a connection's reauthorize_by, say), which time.Time refuses to decode; it and null
// decode to the zero time here.
type rfc3339 time.Time

// UnmarshalJSON decodes RFC 3339 text, "" or null. Its error does not quote the text.
func (t *rfc3339) UnmarshalJSON(b []byte) error {
	var s *string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s == nil || *s == "" {
		*t = rfc3339{}
		return nil
	}
	v, err := time.Parse(time.RFC3339, *s)
	if err != nil {
		return errors.New("a time is not in RFC 3339 form")
	}
	*t = rfc3339(v)
	return nil
}

func (t rfc3339) time() time.Time { return time.Time(t) }

// mustUnescape returns the unescaped form of a path built with url.PathEscape, which always
// unescapes.
func mustUnescape(path string) string {
	p, err := url.PathUnescape(path)
	if err != nil {
		panic("connect: path built with url.PathEscape does not unescape: " + err.Error())
	}
	return p
}
