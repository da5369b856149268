package sandbox_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sellerauth/sellerauth/internal/fakeclock"
	"github.com/sellerauth/sellerauth/internal/sandbox"
)

const (
	clientID     = "amzn1.application-oa2-client.0123456789abcdef"
	clientSecret = "amzn1.oa2-cs.v1.first-secret"
	sellerID     = "A3SELLER0001"
)

func newClock() *fakeclock.Clock { return fakeclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)) }

// env is a sandbox served over HTTP, as the token client will see it.
type env struct {
	sb    *sandbox.Sandbox
	clock *fakeclock.Clock
	url   string
}

func newEnv(t *testing.T, opts sandbox.Options) *env {
	t.Helper()
	c := newClock()
	if opts.ClientID == "" {
		opts.ClientID, opts.ClientSecret = clientID, clientSecret
	}
	if opts.Now == nil {
		opts.Now = c.Now
	}
	sb := sandbox.New(opts)
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	return &env{sb: sb, clock: c, url: srv.URL + sandbox.TokenPath}
}

// answer is what the token endpoint said.
type answer struct {
	Status int
	Header http.Header
	Fields map[string]any

	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	Error        string `json:"error"`
	Description  string `json:"error_description"`
}

type requestOption func(*http.Request)

func basicAuth(id, secret string) requestOption {
	return func(r *http.Request) { r.SetBasicAuth(id, secret) }
}

func withHeader(name, value string) requestOption {
	return func(r *http.Request) { r.Header.Set(name, value) }
}

func withMethod(method string) requestOption {
	return func(r *http.Request) { r.Method = method }
}

// post sends form to the token endpoint; client credentials go in the form unless a test puts
// them elsewhere.
func (e *env) post(t *testing.T, form url.Values, opts ...requestOption) answer {
	t.Helper()
	a, err := e.try(form, http.DefaultClient, opts...)
	if err != nil {
		t.Fatalf("token request: %v", err)
	}
	return a
}

func (e *env) try(form url.Values, hc *http.Client, opts ...requestOption) (answer, error) {
	req, err := http.NewRequest(http.MethodPost, e.url, strings.NewReader(form.Encode()))
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, o := range opts {
		o(req)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	a := answer{Status: resp.StatusCode, Header: resp.Header}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(body, &a); err != nil {
			return answer{}, err
		}
		if err := json.Unmarshal(body, &a.Fields); err != nil {
			return answer{}, err
		}
	}
	return a, nil
}

func creds(form url.Values) url.Values {
	form.Set("client_id", clientID)
	form.Set("client_secret", clientSecret)
	return form
}

func codeForm(code string) url.Values {
	return creds(url.Values{"grant_type": {"authorization_code"}, "code": {code}})
}

func refreshForm(refreshToken string) url.Values {
	return creds(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}})
}

func wantError(t *testing.T, a answer, status int, code string) {
	t.Helper()
	if a.Status != status || a.Error != code {
		t.Fatalf("got HTTP %d error %q (%q), want HTTP %d error %q", a.Status, a.Error, a.Description, status, code)
	}
	if a.AccessToken != "" || a.RefreshToken != "" {
		t.Fatalf("error answer carries tokens")
	}
	wantNoStore(t, a)
}

func wantNoStore(t *testing.T, a answer) {
	t.Helper()
	if got := a.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
	if got := a.Header.Get("Content-Type"); !strings.HasPrefix(got, "application/json") {
		t.Errorf("Content-Type = %q, want JSON", got)
	}
}

func TestExchangeCode(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	a := e.post(t, codeForm(e.sb.IssueCode(sellerID)))
	if a.Status != http.StatusOK {
		t.Fatalf("HTTP %d %s: %s", a.Status, a.Error, a.Description)
	}
	wantNoStore(t, a)
	if !strings.HasPrefix(a.AccessToken, "Atza|") || !strings.HasPrefix(a.RefreshToken, "Atzr|") {
		t.Errorf("token prefixes: access %.5q refresh %.5q", a.AccessToken, a.RefreshToken)
	}
	if len(a.AccessToken) > 2048 || len(a.RefreshToken) > 2048 {
		t.Errorf("tokens longer than Amazon's 2048 bytes")
	}
	if a.TokenType != "bearer" || a.ExpiresIn != 3600 {
		t.Errorf("token_type %q expires_in %d, want bearer 3600", a.TokenType, a.ExpiresIn)
	}
	if !e.sb.AccessTokenValid(a.AccessToken) {
		t.Error("issued access token not valid")
	}
	if got, ok := e.sb.RefreshTokenOf(sellerID); !ok || got != a.RefreshToken {
		t.Error("RefreshTokenOf does not return the issued refresh token")
	}
	if e.sb.AccessTokenValid("Atza|made-up") {
		t.Error("made-up access token valid")
	}
}

func TestCodeIsSingleUse(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	code := e.sb.IssueCode(sellerID)
	if a := e.post(t, codeForm(code)); a.Status != http.StatusOK {
		t.Fatalf("first use: HTTP %d %s", a.Status, a.Error)
	}
	wantError(t, e.post(t, codeForm(code)), http.StatusBadRequest, "invalid_grant")
	wantError(t, e.post(t, codeForm("ANunknowncode")), http.StatusBadRequest, "invalid_grant")
	if st := e.sb.Stats(); st.TokenRequests != 3 || st.CodeExchanges != 1 || st.Errors["invalid_grant"] != 2 {
		t.Errorf("stats %+v, want 3 requests, 1 exchange, 2 invalid_grant", st)
	}
}

func TestCodeExpiry(t *testing.T) {
	tests := []struct {
		name   string
		ttl    time.Duration
		after  time.Duration
		wantOK bool
	}{
		{"just before 5 minutes", 0, 5*time.Minute - time.Second, true},
		{"at 5 minutes", 0, 5 * time.Minute, false},
		{"an hour later", 0, time.Hour, false},
		{"custom TTL", time.Minute, 61 * time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, sandbox.Options{CodeTTL: tt.ttl})
			code := e.sb.IssueCode(sellerID)
			e.clock.Advance(tt.after)
			a := e.post(t, codeForm(code))
			if tt.wantOK {
				if a.Status != http.StatusOK {
					t.Fatalf("HTTP %d %s, want 200", a.Status, a.Error)
				}
				return
			}
			wantError(t, a, http.StatusBadRequest, "invalid_grant")
		})
	}
}

func TestRedirectURI(t *testing.T) {
	const registered = "https://auth.example.com/callback"
	tests := []struct {
		name     string
		issuedOK bool   // issued with IssueCode rather than IssueCodeFor
		issued   string // redirect URI of IssueCodeFor
		sent     string // "" sends none
		wantOK   bool
	}{
		{"same", false, registered, registered, true},
		{"different", false, registered, "https://evil.example.com/callback", false},
		{"omitted at exchange", false, registered, "", false},
		{"none at consent, none at exchange", false, "", "", true},
		{"none at consent, one at exchange", false, "", registered, false},
		{"unchecked code, any", true, "", "https://anything.example.com/", true},
		{"unchecked code, none", true, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, sandbox.Options{})
			code := e.sb.IssueCodeFor(sellerID, tt.issued)
			if tt.issuedOK {
				code = e.sb.IssueCode(sellerID)
			}
			form := codeForm(code)
			if tt.sent != "" {
				form.Set("redirect_uri", tt.sent)
			}
			a := e.post(t, form)
			if tt.wantOK {
				if a.Status != http.StatusOK {
					t.Fatalf("HTTP %d %s: %s", a.Status, a.Error, a.Description)
				}
				return
			}
			wantError(t, a, http.StatusBadRequest, "invalid_grant")
			// A mismatch does not burn the code: the right redirect_uri still works.
			form.Del("redirect_uri")
			if tt.issued != "" {
				form.Set("redirect_uri", tt.issued)
			}
			if a := e.post(t, form); a.Status != http.StatusOK {
				t.Fatalf("with the right redirect_uri: HTTP %d %s", a.Status, a.Error)
			}
		})
	}
}

func TestClientAuthentication(t *testing.T) {
	grant := func() url.Values {
		return url.Values{"grant_type": {"client_credentials"}, "scope": {"sellingpartnerapi::notifications"}}
	}
	tests := []struct {
		name       string
		form       url.Values
		opts       []requestOption
		wantStatus int
		wantCode   string
	}{
		{"form", creds(grant()), nil, 200, ""},
		{"basic", grant(), []requestOption{basicAuth(clientID, clientSecret)}, 200, ""},
		{"basic, form-encoded parts", grant(), []requestOption{basicAuth(url.QueryEscape(clientID), url.QueryEscape(clientSecret))}, 200, ""},
		{"basic and client_id in form", func() url.Values { f := grant(); f.Set("client_id", clientID); return f }(), []requestOption{basicAuth(clientID, clientSecret)}, 200, ""},
		{"wrong secret", func() url.Values { f := creds(grant()); f.Set("client_secret", "nope"); return f }(), nil, 401, "invalid_client"},
		{"wrong client ID", func() url.Values {
			f := creds(grant())
			f.Set("client_id", "amzn1.application-oa2-client.other")
			return f
		}(), nil, 401, "invalid_client"},
		{"no secret", func() url.Values { f := creds(grant()); f.Del("client_secret"); return f }(), nil, 401, "invalid_client"},
		{"no credentials", grant(), nil, 401, "invalid_client"},
		{"basic, wrong secret", grant(), []requestOption{basicAuth(clientID, "nope")}, 401, "invalid_client"},
		{"basic and form secret", creds(grant()), []requestOption{basicAuth(clientID, clientSecret)}, 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, sandbox.Options{})
			a := e.post(t, tt.form, tt.opts...)
			if tt.wantCode == "" {
				if a.Status != tt.wantStatus {
					t.Fatalf("HTTP %d %s: %s", a.Status, a.Error, a.Description)
				}
				return
			}
			wantError(t, a, tt.wantStatus, tt.wantCode)
			if tt.wantCode == "invalid_client" && a.Description != "Client authentication failed" {
				t.Errorf("description %q", a.Description)
			}
		})
	}

	t.Run("basic failure asks for basic", func(t *testing.T) {
		e := newEnv(t, sandbox.Options{})
		a := e.post(t, grant(), basicAuth(clientID, "nope"))
		if a.Header.Get("WWW-Authenticate") == "" {
			t.Error("no WWW-Authenticate on a failed Basic authentication")
		}
	})
	t.Run("empty registered secret never authenticates", func(t *testing.T) {
		e := newEnv(t, sandbox.Options{ClientID: clientID})
		f := grant()
		f.Set("client_id", clientID)
		f.Set("client_secret", "")
		wantError(t, e.post(t, f), http.StatusUnauthorized, "invalid_client")
	})
}

func TestMalformedRequests(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	tests := []struct {
		name       string
		form       url.Values
		opts       []requestOption
		wantStatus int
		wantCode   string
	}{
		{"GET", codeForm("x"), []requestOption{withMethod(http.MethodGet)}, 405, "invalid_request"},
		{"JSON body", codeForm("x"), []requestOption{withHeader("Content-Type", "application/json")}, 400, "invalid_request"},
		{"no content type", codeForm("x"), []requestOption{withHeader("Content-Type", "")}, 400, "invalid_request"},
		{"no grant_type", creds(url.Values{"code": {"x"}}), nil, 400, "invalid_request"},
		{"unsupported grant_type", creds(url.Values{"grant_type": {"password"}}), nil, 400, "unsupported_grant_type"},
		{"no code", creds(url.Values{"grant_type": {"authorization_code"}}), nil, 400, "invalid_request"},
		{"no refresh_token", creds(url.Values{"grant_type": {"refresh_token"}}), nil, 400, "invalid_request"},
		{"repeated parameter", func() url.Values { f := codeForm("x"); f.Add("code", "y"); return f }(), nil, 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := e.post(t, tt.form, tt.opts...)
			wantError(t, a, tt.wantStatus, tt.wantCode)
			if tt.wantStatus == 405 && a.Header.Get("Allow") != "POST" {
				t.Errorf("Allow = %q", a.Header.Get("Allow"))
			}
		})
	}

	t.Run("charset parameter is fine", func(t *testing.T) {
		a := e.post(t, codeForm(e.sb.IssueCode(sellerID)), withHeader("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8"))
		if a.Status != http.StatusOK {
			t.Fatalf("HTTP %d %s", a.Status, a.Error)
		}
	})
	t.Run("credentials in the URL query are ignored", func(t *testing.T) {
		q := url.Values{"client_id": {clientID}, "client_secret": {clientSecret}}
		form := url.Values{"grant_type": {"authorization_code"}, "code": {e.sb.IssueCode(sellerID)}}
		a := e.post(t, form, func(r *http.Request) { r.URL.RawQuery = q.Encode() })
		wantError(t, a, http.StatusUnauthorized, "invalid_client")
	})
	t.Run("other paths are 404", func(t *testing.T) {
		for _, p := range []string{"/", "/auth/o2/token/", "/auth/o2/tokens"} {
			resp, err := http.Post(strings.TrimSuffix(e.url, sandbox.TokenPath)+p, "application/x-www-form-urlencoded", strings.NewReader(codeForm("x").Encode()))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s: HTTP %d, want 404", p, resp.StatusCode)
			}
		}
	})
}

func TestRefresh(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	first := e.post(t, codeForm(e.sb.IssueCode(sellerID)))

	a := e.post(t, refreshForm(first.RefreshToken))
	if a.Status != http.StatusOK {
		t.Fatalf("HTTP %d %s", a.Status, a.Error)
	}
	wantNoStore(t, a)
	if a.RefreshToken != first.RefreshToken {
		t.Error("refresh answer changed the refresh token")
	}
	if a.AccessToken == first.AccessToken || !strings.HasPrefix(a.AccessToken, "Atza|") {
		t.Error("refresh did not issue a new access token")
	}
	if a.TokenType != "bearer" || a.ExpiresIn != 3600 {
		t.Errorf("token_type %q expires_in %d", a.TokenType, a.ExpiresIn)
	}
	if !e.sb.AccessTokenValid(first.AccessToken) || !e.sb.AccessTokenValid(a.AccessToken) {
		t.Error("access tokens not valid within their hour")
	}
	e.clock.Advance(time.Hour)
	if e.sb.AccessTokenValid(a.AccessToken) {
		t.Error("access token valid after an hour")
	}
	if a := e.post(t, refreshForm(first.RefreshToken)); a.Status != http.StatusOK {
		t.Error("refresh token stopped working after an hour")
	}

	// A new consent by the same seller issues a new refresh token; the old one keeps working.
	second := e.post(t, codeForm(e.sb.IssueCode(sellerID)))
	if second.RefreshToken == first.RefreshToken {
		t.Fatal("second consent returned the same refresh token")
	}
	if got, _ := e.sb.RefreshTokenOf(sellerID); got != second.RefreshToken {
		t.Error("RefreshTokenOf is not the newest refresh token")
	}
	if a := e.post(t, refreshForm(first.RefreshToken)); a.Status != http.StatusOK {
		t.Error("old refresh token stopped working after a new consent")
	}

	wantError(t, e.post(t, refreshForm("Atzr|made-up")), http.StatusBadRequest, "invalid_grant")
}

func TestRevoke(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	first := e.post(t, codeForm(e.sb.IssueCode(sellerID)))
	second := e.post(t, codeForm(e.sb.IssueCode(sellerID)))
	other := e.post(t, codeForm(e.sb.IssueCode("A3OTHERSELLER")))

	e.sb.Revoke(sellerID)
	for _, tok := range []string{first.RefreshToken, second.RefreshToken} {
		a := e.post(t, refreshForm(tok))
		wantError(t, a, http.StatusBadRequest, "invalid_grant")
		if a.Description != "User may have revoked or didn't grant the permission" {
			t.Errorf("description %q", a.Description)
		}
	}
	if _, ok := e.sb.RefreshTokenOf(sellerID); ok {
		t.Error("RefreshTokenOf still returns a revoked token")
	}
	if a := e.post(t, refreshForm(other.RefreshToken)); a.Status != http.StatusOK {
		t.Error("revoking one seller revoked another")
	}
	again := e.post(t, codeForm(e.sb.IssueCode(sellerID)))
	if a := e.post(t, refreshForm(again.RefreshToken)); a.Status != http.StatusOK {
		t.Error("a new consent after revocation does not work")
	}
}

func TestSecretRotation(t *testing.T) {
	const newSecret = "amzn1.oa2-cs.v1.second-secret"
	e := newEnv(t, sandbox.Options{})
	tokens := e.post(t, codeForm(e.sb.IssueCode(sellerID)))
	withSecret := func(form url.Values, secret string) url.Values {
		form.Set("client_secret", secret)
		return form
	}

	e.sb.RotateSecret(newSecret)
	for _, secret := range []string{clientSecret, newSecret} {
		if a := e.post(t, withSecret(refreshForm(tokens.RefreshToken), secret)); a.Status != http.StatusOK {
			t.Errorf("during the overlap, a secret gets HTTP %d %s", a.Status, a.Error)
		}
	}

	e.sb.RetireOldSecret()
	wantError(t, e.post(t, withSecret(refreshForm(tokens.RefreshToken), clientSecret)), http.StatusUnauthorized, "invalid_client")
	if a := e.post(t, withSecret(refreshForm(tokens.RefreshToken), newSecret)); a.Status != http.StatusOK {
		t.Errorf("new secret after retirement: HTTP %d %s", a.Status, a.Error)
	}
	if a := e.post(t, withSecret(codeForm(e.sb.IssueCode(sellerID)), newSecret)); a.Status != http.StatusOK {
		t.Errorf("code exchange with the new secret: HTTP %d %s", a.Status, a.Error)
	}
}

func TestClientCredentials(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	for _, scope := range []string{
		"sellingpartnerapi::notifications",
		"sellingpartnerapi::migration",
		"sellingpartnerapi::client_credential:rotation",
	} {
		a := e.post(t, creds(url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}))
		if a.Status != http.StatusOK {
			t.Fatalf("%s: HTTP %d %s", scope, a.Status, a.Error)
		}
		if a.AccessToken == "" || a.ExpiresIn != 3600 || a.TokenType != "bearer" {
			t.Errorf("%s: incomplete answer", scope)
		}
		if _, ok := a.Fields["refresh_token"]; ok {
			t.Errorf("%s: grantless answer has a refresh_token", scope)
		}
		if !e.sb.AccessTokenValid(a.AccessToken) {
			t.Errorf("%s: access token not valid", scope)
		}
	}
	for _, scope := range []string{"", "profile", "sellingpartnerapi::notifications profile"} {
		a := e.post(t, creds(url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}))
		wantError(t, a, http.StatusBadRequest, "invalid_scope")
	}
}

func TestAccessTokenTTL(t *testing.T) {
	e := newEnv(t, sandbox.Options{AccessTokenTTL: 10 * time.Minute})
	a := e.post(t, codeForm(e.sb.IssueCode(sellerID)))
	if a.ExpiresIn != 600 {
		t.Errorf("expires_in %d, want 600", a.ExpiresIn)
	}
	e.clock.Advance(10*time.Minute - time.Second)
	if !e.sb.AccessTokenValid(a.AccessToken) {
		t.Error("expired early")
	}
	e.clock.Advance(time.Second)
	if e.sb.AccessTokenValid(a.AccessToken) {
		t.Error("valid at expiry")
	}
}

func TestInjectedFaults(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	e.sb.Inject(sandbox.Fault{Status: 500})
	e.sb.Inject(sandbox.Fault{Status: 429, RetryAfter: 2 * time.Second})
	e.sb.Inject(sandbox.Fault{Status: 503})
	e.sb.Inject(sandbox.Fault{Code: "invalid_client"})
	e.sb.Inject(sandbox.Fault{Body: "<html>Bad gateway</html>", Status: 502})
	e.sb.Inject(sandbox.Fault{Body: `{"access_token":"x"}`})

	code := e.sb.IssueCode(sellerID)
	wantError(t, e.post(t, codeForm(code)), 500, "server_error")
	a := e.post(t, codeForm(code))
	wantError(t, a, 429, "temporarily_unavailable")
	if a.Header.Get("Retry-After") != "2" {
		t.Errorf("Retry-After = %q, want 2", a.Header.Get("Retry-After"))
	}
	wantError(t, e.post(t, codeForm(code)), 503, "temporarily_unavailable")
	wantError(t, e.post(t, codeForm(code)), 401, "invalid_client")
	if a := e.post(t, codeForm(code)); a.Status != 502 || !strings.HasPrefix(a.Header.Get("Content-Type"), "text/html") {
		t.Errorf("body fault: HTTP %d %s", a.Status, a.Header.Get("Content-Type"))
	}
	if a := e.post(t, codeForm(code)); a.Status != 200 || a.AccessToken != "x" {
		t.Errorf("JSON body fault: HTTP %d", a.Status)
	}
	// The faults did not touch the code: it still works, once.
	if a := e.post(t, codeForm(code)); a.Status != http.StatusOK {
		t.Fatalf("after the faults: HTTP %d %s", a.Status, a.Error)
	}

	st := e.sb.Stats()
	if st.TokenRequests != 7 || st.Faults != 6 || st.CodeExchanges != 1 {
		t.Errorf("stats %+v, want 7 requests, 6 faults, 1 exchange", st)
	}
	want := map[string]int{"server_error": 1, "temporarily_unavailable": 2, "invalid_client": 1}
	for code, n := range want {
		if st.Errors[code] != n {
			t.Errorf("Errors[%s] = %d, want %d", code, st.Errors[code], n)
		}
	}
}

func TestDelayFault(t *testing.T) {
	e := newEnv(t, sandbox.Options{})

	e.sb.Inject(sandbox.Fault{Delay: 100 * time.Millisecond})
	start := time.Now()
	if a := e.post(t, codeForm(e.sb.IssueCode(sellerID))); a.Status != http.StatusOK {
		t.Fatalf("delayed answer: HTTP %d %s", a.Status, a.Error)
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("answered after %v, want at least 100ms", d)
	}

	// A client that gives up before the answer leaves the code unused.
	e.sb.Inject(sandbox.Fault{Delay: 5 * time.Second})
	code := e.sb.IssueCode(sellerID)
	impatient := &http.Client{Timeout: 100 * time.Millisecond}
	if _, err := e.try(codeForm(code), impatient); err == nil {
		t.Fatal("no timeout")
	}
	if a := e.post(t, codeForm(code)); a.Status != http.StatusOK {
		t.Fatalf("code after the abandoned request: HTTP %d %s", a.Status, a.Error)
	}
}

func TestCloseConnectionFault(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	e.sb.Inject(sandbox.Fault{CloseConnection: true})
	code := e.sb.IssueCode(sellerID)
	if _, err := e.try(codeForm(code), http.DefaultClient); err == nil {
		t.Fatal("closed connection gave an answer")
	}
	if a := e.post(t, codeForm(code)); a.Status != http.StatusOK {
		t.Fatalf("next request: HTTP %d %s", a.Status, a.Error)
	}
	if st := e.sb.Stats(); st.TokenRequests != 2 || st.Faults != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestFaultRate(t *testing.T) {
	tests := []struct {
		name     string
		share    float64
		min, max int
	}{
		{"off", 0, 0, 0},
		{"all", 1, 200, 200},
		{"half", 0.5, 50, 150},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, sandbox.Options{})
			first := e.post(t, codeForm(e.sb.IssueCode(sellerID)))
			e.sb.SetFaultRate(tt.share, sandbox.Fault{Status: 503})
			failed := 0
			for range 200 {
				if a := e.post(t, refreshForm(first.RefreshToken)); a.Status == 503 {
					failed++
				}
			}
			if failed < tt.min || failed > tt.max {
				t.Errorf("%d of 200 failed, want %d to %d", failed, tt.min, tt.max)
			}
			if got := e.sb.Stats().Faults; got != failed {
				t.Errorf("Faults counted %d, want %d", got, failed)
			}
			e.sb.SetFaultRate(0, sandbox.Fault{})
			if a := e.post(t, refreshForm(first.RefreshToken)); a.Status != http.StatusOK {
				t.Errorf("after turning faults off: HTTP %d", a.Status)
			}
		})
	}
}

func TestLatency(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	e.sb.SetLatency(50 * time.Millisecond)
	start := time.Now()
	if a := e.post(t, codeForm(e.sb.IssueCode(sellerID))); a.Status != http.StatusOK {
		t.Fatalf("HTTP %d", a.Status)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("answered after %v, want at least 50ms", d)
	}
}

func TestConcurrentUse(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	e.sb.SetFaultRate(0.1, sandbox.Fault{Status: 500})
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			seller := "A3SELLER" + string(rune('A'+i))
			for range 5 {
				a, err := e.try(codeForm(e.sb.IssueCode(seller)), http.DefaultClient)
				if err != nil || a.Status != http.StatusOK {
					continue
				}
				_, _ = e.try(refreshForm(a.RefreshToken), http.DefaultClient)
				e.sb.AccessTokenValid(a.AccessToken)
				e.sb.Stats()
			}
			e.sb.Revoke(seller)
		})
	}
	wg.Wait()
	st := e.sb.Stats()
	if st.TokenRequests < 80 || st.CodeExchanges == 0 {
		t.Errorf("stats %+v", st)
	}
}
