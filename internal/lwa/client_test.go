package lwa_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sellerauth/sellerauth/internal/lwa"
	"github.com/sellerauth/sellerauth/internal/sandbox"
)

const (
	clientID   = "amzn1.application-oa2-client.0123456789abcdef"
	oldSecret  = "amzn1.oa2-cs.v1.old-secret-0000000000"
	newSecret  = "amzn1.oa2-cs.v1.new-secret-1111111111"
	sellerID   = "A3SELLER0001"
	redirectTo = "https://auth.example.com/callback"
)

// source is a CredentialSource whose Refetch returns fresh (or the current credentials when
// fresh is empty), counting the calls.
type source struct {
	mu         sync.Mutex
	current    lwa.Credentials
	fresh      lwa.Credentials
	refetchErr error
	refetches  int
}

func (s *source) Credentials(context.Context) (lwa.Credentials, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current, nil
}

func (s *source) Refetch(_ context.Context, stale lwa.Credentials) (lwa.Credentials, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refetches++
	if s.refetchErr != nil {
		return lwa.Credentials{}, s.refetchErr
	}
	if s.fresh != (lwa.Credentials{}) {
		s.current = s.fresh
	}
	return s.current, nil
}

func (s *source) Refetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refetches
}

// fixture is a sandbox behind a real HTTP server and a client tuned for quick tests.
type fixture struct {
	sb     *sandbox.Sandbox
	src    *source
	client *lwa.Client
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	sb := sandbox.New(sandbox.Options{ClientID: clientID, ClientSecret: oldSecret})
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	src := &source{current: lwa.Credentials{ClientID: clientID, ClientSecret: oldSecret}}
	c := lwa.New(srv.URL+sandbox.TokenPath, src)
	c.HTTPClient.Timeout = 200 * time.Millisecond
	c.Backoff = func(int) time.Duration { return time.Millisecond }
	return &fixture{sb: sb, src: src, client: c}
}

// requests returns the number of token requests the sandbox has seen.
func (f *fixture) requests() int { return f.sb.Stats().TokenRequests }

// authorize runs a code exchange and returns its tokens.
func (f *fixture) authorize(t *testing.T) lwa.Token {
	t.Helper()
	tok, err := f.client.ExchangeCode(context.Background(), f.sb.IssueCode(sellerID), "")
	if err != nil {
		t.Fatalf("ExchangeCode: %v", err)
	}
	return tok
}

func TestExchangeCode(t *testing.T) {
	f := newFixture(t)
	tok := f.authorize(t)
	if !strings.HasPrefix(tok.AccessToken, "Atza|") || !f.sb.AccessTokenValid(tok.AccessToken) {
		t.Error("access token not issued by the sandbox")
	}
	if rt, _ := f.sb.RefreshTokenOf(sellerID); tok.RefreshToken != rt {
		t.Error("refresh token is not the seller's")
	}
	if tok.TokenType != "bearer" || tok.ExpiresIn != time.Hour {
		t.Errorf("token type %q, expires in %v; want bearer, 1h", tok.TokenType, tok.ExpiresIn)
	}
	if n := f.requests(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestExchangeCodeRedirectURI(t *testing.T) {
	tests := []struct {
		name             string
		issued, sent     string
		wantInvalidGrant bool
	}{
		{"same redirect_uri", redirectTo, redirectTo, false},
		{"none at consent and exchange", "", "", false},
		{"different redirect_uri", redirectTo, "https://auth.example.com/other", true},
		{"redirect_uri left out", redirectTo, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			_, err := f.client.ExchangeCode(context.Background(), f.sb.IssueCodeFor(sellerID, tt.issued), tt.sent)
			if got := lwa.IsInvalidGrant(err); got != tt.wantInvalidGrant {
				t.Fatalf("err = %v, want invalid_grant %v", err, tt.wantInvalidGrant)
			}
			if !tt.wantInvalidGrant && err != nil {
				t.Fatal(err)
			}
			if n := f.requests(); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
		})
	}
}

func TestRefresh(t *testing.T) {
	f := newFixture(t)
	first := f.authorize(t)
	tok, err := f.client.Refresh(context.Background(), first.RefreshToken)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if tok.RefreshToken != first.RefreshToken {
		t.Error("refresh token not carried over")
	}
	if tok.AccessToken == first.AccessToken || !f.sb.AccessTokenValid(tok.AccessToken) {
		t.Error("no new valid access token")
	}
	if tok.ExpiresIn != time.Hour {
		t.Errorf("expires in %v", tok.ExpiresIn)
	}
}

func TestRefreshAnswerWithoutRefreshToken(t *testing.T) {
	f := newFixture(t)
	f.sb.Inject(sandbox.Fault{Body: `{"access_token":"Atza|abc","token_type":"bearer","expires_in":"3600"}`})
	tok, err := f.client.Refresh(context.Background(), "Atzr|mine")
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if tok.RefreshToken != "Atzr|mine" || tok.AccessToken != "Atza|abc" || tok.ExpiresIn != time.Hour {
		t.Errorf("got %+v", tok)
	}
}

func TestInvalidGrantIsNotRetried(t *testing.T) {
	t.Run("reused code", func(t *testing.T) {
		f := newFixture(t)
		code := f.sb.IssueCode(sellerID)
		if _, err := f.client.ExchangeCode(context.Background(), code, ""); err != nil {
			t.Fatal(err)
		}
		before := f.requests()
		_, err := f.client.ExchangeCode(context.Background(), code, "")
		if !lwa.IsInvalidGrant(err) {
			t.Fatalf("err = %v, want invalid_grant", err)
		}
		if errors.Is(err, lwa.ErrUnavailable) || lwa.IsInvalidClient(err) {
			t.Errorf("invalid_grant also reads as %v", err)
		}
		var e *lwa.Error
		if !errors.As(err, &e) || e.HTTPStatus != http.StatusBadRequest || e.Code != lwa.CodeInvalidGrant {
			t.Errorf("*Error = %+v", e)
		}
		if n := f.requests() - before; n != 1 {
			t.Errorf("%d requests for the reused code, want exactly 1", n)
		}
	})
	t.Run("revoked refresh token", func(t *testing.T) {
		f := newFixture(t)
		tok := f.authorize(t)
		f.sb.Revoke(sellerID)
		before := f.requests()
		_, err := f.client.Refresh(context.Background(), tok.RefreshToken)
		if !lwa.IsInvalidGrant(err) {
			t.Fatalf("err = %v, want invalid_grant", err)
		}
		if !strings.Contains(err.Error(), "User may have revoked") {
			t.Errorf("Amazon's description missing from %q", err)
		}
		if n := f.requests() - before; n != 1 {
			t.Errorf("%d requests, want 1", n)
		}
	})
}

func TestInvalidClientRefetchesOnce(t *testing.T) {
	refetchFailure := errors.New("secrets manager down")
	tests := []struct {
		name         string
		fresh        lwa.Credentials
		refetchErr   error
		retire       bool // retire the old secret so only the new one works
		wantOK       bool
		wantRequests int
	}{
		{"rotated secret is refetched", lwa.Credentials{ClientID: clientID, ClientSecret: newSecret}, nil, true, true, 2},
		{"no newer secret", lwa.Credentials{}, nil, true, false, 1},
		{"refetch fails", lwa.Credentials{}, refetchFailure, true, false, 1},
		{"refetched secret rejected too", lwa.Credentials{ClientID: clientID, ClientSecret: "amzn1.oa2-cs.v1.also-wrong"}, nil, true, false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.src.fresh, f.src.refetchErr = tt.fresh, tt.refetchErr
			f.sb.RotateSecret(newSecret)
			if tt.retire {
				f.sb.RetireOldSecret()
			}
			tok, err := f.client.ExchangeCode(context.Background(), f.sb.IssueCode(sellerID), "")
			if tt.wantOK {
				if err != nil {
					t.Fatalf("ExchangeCode: %v", err)
				}
				if !f.sb.AccessTokenValid(tok.AccessToken) {
					t.Error("no valid access token")
				}
			} else {
				if !lwa.IsInvalidClient(err) {
					t.Fatalf("err = %v, want invalid_client", err)
				}
				if tt.refetchErr != nil && !errors.Is(err, tt.refetchErr) {
					t.Errorf("refetch failure not wrapped: %v", err)
				}
			}
			if n := f.src.Refetches(); n != 1 {
				t.Errorf("%d refetches, want exactly 1", n)
			}
			if n := f.requests(); n != tt.wantRequests {
				t.Errorf("%d requests, want %d", n, tt.wantRequests)
			}
		})
	}

	t.Run("old secret still in its overlap", func(t *testing.T) {
		f := newFixture(t)
		f.sb.RotateSecret(newSecret)
		f.authorize(t)
		if n := f.src.Refetches(); n != 0 {
			t.Errorf("%d refetches while the old secret works", n)
		}
	})
}

func TestRetriedThenSuccess(t *testing.T) {
	tests := []struct {
		name  string
		fault sandbox.Fault
	}{
		{"500", sandbox.Fault{Status: 500}},
		{"429", sandbox.Fault{Status: 429}},
		{"429 with Retry-After", sandbox.Fault{Status: 429, RetryAfter: time.Second}},
		{"503 temporarily_unavailable", sandbox.Fault{Status: 503, Code: "temporarily_unavailable"}},
		{"server_error code with a 400", sandbox.Fault{Status: 400, Code: "server_error"}},
		{"502 HTML page", sandbox.Fault{Status: 502, Body: "<html><body>Bad Gateway</body></html>"}},
		{"closed connection", sandbox.Fault{CloseConnection: true}},
		{"slower than the timeout", sandbox.Fault{Delay: time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.sb.Inject(tt.fault)
			tok := f.authorize(t)
			if !f.sb.AccessTokenValid(tok.AccessToken) {
				t.Error("no valid access token")
			}
			if n := f.requests(); n != 2 {
				t.Errorf("%d requests, want 2", n)
			}
			if n := f.client.Retries(); n != 1 {
				t.Errorf("Retries() = %d, want 1 (the refresh summary's retried count)", n)
			}
		})
	}
}

func TestUnavailableAfterAllAttempts(t *testing.T) {
	tests := []struct {
		name        string
		fault       sandbox.Fault
		maxAttempts int
		wantCode    string // the *Error of the last attempt, if any
	}{
		{"503", sandbox.Fault{Status: 503}, 0, lwa.CodeTemporarilyUnavailable},
		{"500, five attempts", sandbox.Fault{Status: 500}, 5, lwa.CodeServerError},
		{"429", sandbox.Fault{Status: 429}, 0, lwa.CodeTemporarilyUnavailable},
		{"slower than the timeout", sandbox.Fault{Delay: time.Second}, 0, ""},
		{"closed connection", sandbox.Fault{CloseConnection: true}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.client.MaxAttempts = tt.maxAttempts
			want := tt.maxAttempts
			if want == 0 {
				want = 3
			}
			for range want + 1 {
				f.sb.Inject(tt.fault)
			}
			code := f.sb.IssueCode(sellerID)
			_, err := f.client.ExchangeCode(context.Background(), code, "")
			if !errors.Is(err, lwa.ErrUnavailable) {
				t.Fatalf("err = %v, want ErrUnavailable", err)
			}
			if lwa.IsInvalidGrant(err) || lwa.IsInvalidClient(err) {
				t.Errorf("unavailability reads as a rejection: %v", err)
			}
			var e *lwa.Error
			if got := errors.As(err, &e); got != (tt.wantCode != "") || (got && e.Code != tt.wantCode) {
				t.Errorf("*Error %+v, want code %q", e, tt.wantCode)
			}
			if n := f.requests(); n != want {
				t.Errorf("%d requests, want %d", n, want)
			}
			// None of the attempts used the code.
			if _, err := f.client.ExchangeCode(context.Background(), code, ""); err != nil {
				t.Errorf("code unusable after the outage: %v", err)
			}
		})
	}
}

func TestNotRetried(t *testing.T) {
	tests := []struct {
		name            string
		fault           sandbox.Fault
		wantCode        string
		wantUnavailable bool
	}{
		{"invalid_request", sandbox.Fault{Code: lwa.CodeInvalidRequest}, lwa.CodeInvalidRequest, false},
		{"unauthorized_client", sandbox.Fault{Code: lwa.CodeUnauthorizedClient}, lwa.CodeUnauthorizedClient, false},
		{"access_denied 403", sandbox.Fault{Status: 403, Code: lwa.CodeAccessDenied}, lwa.CodeAccessDenied, false},
		{"404 without an OAuth error", sandbox.Fault{Status: 404, Body: "Not Found"}, "", true},
		{"200 that is not JSON", sandbox.Fault{Body: "<html>Sign in</html>"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.sb.Inject(tt.fault)
			_, err := f.client.ExchangeCode(context.Background(), f.sb.IssueCode(sellerID), "")
			if err == nil {
				t.Fatal("no error")
			}
			if got := errors.Is(err, lwa.ErrUnavailable); got != tt.wantUnavailable {
				t.Errorf("ErrUnavailable %v, want %v: %v", got, tt.wantUnavailable, err)
			}
			var e *lwa.Error
			if tt.wantCode != "" && (!errors.As(err, &e) || e.Code != tt.wantCode) {
				t.Errorf("err = %v, want code %s", err, tt.wantCode)
			}
			if n := f.requests(); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
		})
	}
}

func TestUnusableTokenAnswers(t *testing.T) {
	long := "Atza|" + strings.Repeat("x", 2044)
	tests := []struct {
		name    string
		body    string
		refresh bool // ask with Refresh rather than ExchangeCode
	}{
		{"access_token over 2048 bytes", `{"access_token":"` + long + `","refresh_token":"Atzr|a","token_type":"bearer","expires_in":3600}`, false},
		{"refresh_token over 2048 bytes", `{"access_token":"Atza|a","refresh_token":"` + long + `","token_type":"bearer","expires_in":3600}`, true},
		{"no access_token", `{"refresh_token":"Atzr|a","token_type":"bearer","expires_in":3600}`, true},
		{"no refresh_token for a code", `{"access_token":"Atza|a","token_type":"bearer","expires_in":3600}`, false},
		{"expires_in 0", `{"access_token":"Atza|a","refresh_token":"Atzr|a","expires_in":0}`, true},
		{"no expires_in", `{"access_token":"Atza|a","refresh_token":"Atzr|a"}`, true},
		{"expires_in not a number", `{"access_token":"Atza|a","refresh_token":"Atzr|a","expires_in":"soon"}`, true},
		{"token with a newline", `{"access_token":"Atza|a\nb","refresh_token":"Atzr|a","expires_in":3600}`, true},
		{"not JSON", `{access_token: Atza|a}`, true},
		{"body over 64 KiB", `{"access_token":"Atza|a","refresh_token":"Atzr|a","expires_in":3600,"pad":"` + strings.Repeat("p", 64<<10) + `"}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.sb.Inject(sandbox.Fault{Body: tt.body})
			var err error
			if tt.refresh {
				_, err = f.client.Refresh(context.Background(), "Atzr|mine")
			} else {
				_, err = f.client.ExchangeCode(context.Background(), f.sb.IssueCode(sellerID), "")
			}
			if !errors.Is(err, lwa.ErrUnavailable) {
				t.Fatalf("err = %v, want ErrUnavailable", err)
			}
			if strings.Contains(err.Error(), long) || strings.Contains(err.Error(), "Atza|a") {
				t.Errorf("error quotes the answer: %v", err)
			}
			if n := f.requests(); n != 1 {
				t.Errorf("%d requests, want 1 (an answer that may have used the code is not retried)", n)
			}
		})
	}
}

func TestErrorsCarryNoSecrets(t *testing.T) {
	f := newFixture(t)
	tok := f.authorize(t)
	code := f.sb.IssueCode(sellerID)
	if _, err := f.client.ExchangeCode(context.Background(), code, ""); err != nil {
		t.Fatal(err)
	}
	secrets := []string{code, tok.RefreshToken, tok.AccessToken, oldSecret, newSecret}
	var errs []error
	collect := func(_ lwa.Token, err error) {
		t.Helper()
		if err == nil {
			t.Fatal("no error")
		}
		errs = append(errs, err)
	}

	collect(f.client.ExchangeCode(context.Background(), code, redirectTo)) // reused code
	// LWA echoing the request back must not carry it into the error.
	f.sb.Inject(sandbox.Fault{Status: 400, Body: `{"error":"invalid_request","error_description":"bad code ` + code + ` for secret ` + oldSecret + `"}`})
	collect(f.client.ExchangeCode(context.Background(), code, ""))
	f.sb.Inject(sandbox.Fault{Status: 400, Body: `{"error":"invalid_` + tok.RefreshToken + `","error_description":"x"}`})
	collect(f.client.Refresh(context.Background(), tok.RefreshToken))
	for range 3 {
		f.sb.Inject(sandbox.Fault{Status: 503})
	}
	collect(f.client.Refresh(context.Background(), tok.RefreshToken))
	f.sb.Inject(sandbox.Fault{Body: `{"access_token":"` + tok.AccessToken + `","expires_in":-1}`})
	collect(f.client.Refresh(context.Background(), tok.RefreshToken))
	f.sb.RotateSecret(newSecret)
	f.sb.RetireOldSecret()
	collect(f.client.Refresh(context.Background(), tok.RefreshToken)) // invalid_client, no newer secret
	f.sb.Revoke(sellerID)
	f.src.fresh = lwa.Credentials{ClientID: clientID, ClientSecret: newSecret}
	collect(f.client.Refresh(context.Background(), tok.RefreshToken)) // refetched, then revoked

	for _, err := range errs {
		msg := err.Error()
		if !strings.HasPrefix(msg, "lwa token request (") {
			t.Errorf("error without context: %q", msg)
		}
		for _, s := range secrets {
			if strings.Contains(msg, s) {
				t.Errorf("error %q contains a secret %.8q…", msg, s)
			}
		}
		var e *lwa.Error
		if errors.As(err, &e) {
			for _, s := range secrets {
				if strings.Contains(e.Code, s) || strings.Contains(e.Description, s) {
					t.Errorf("*Error fields contain a secret: %+v", e)
				}
			}
		}
	}
	if !strings.Contains(errs[1].Error(), "[redacted]") {
		t.Errorf("echoed secret not redacted: %v", errs[1])
	}
}

func TestDescriptionIsCut(t *testing.T) {
	f := newFixture(t)
	f.sb.Inject(sandbox.Fault{Status: 400, Body: `{"error":"invalid_request","error_description":"` + strings.Repeat("é", 500) + `\r\nInjected: log line"}`})
	_, err := f.client.Refresh(context.Background(), "Atzr|mine")
	var e *lwa.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want *Error", err)
	}
	if n := len([]rune(e.Description)); n != 200 {
		t.Errorf("description has %d characters, want 200", n)
	}
	if strings.ContainsAny(err.Error(), "\r\n") {
		t.Error("control characters reach the error message")
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	f := newFixture(t)
	f.client.Backoff = func(int) time.Duration { return 0 }
	f.sb.Inject(sandbox.Fault{Status: 429, RetryAfter: time.Second})
	start := time.Now()
	f.authorize(t)
	if d := time.Since(start); d < time.Second {
		t.Errorf("retried after %v, want the 1s of Retry-After", d)
	}
}

func TestContextCancelledDuringBackoff(t *testing.T) {
	f := newFixture(t)
	// A backoff of an hour: a client that waited it out instead of returning on the cancel would
	// hold the test until go test's timeout, whatever the machine's speed.
	f.client.Backoff = func(int) time.Duration { return time.Hour }
	f.sb.Inject(sandbox.Fault{Status: 500})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := f.client.ExchangeCode(ctx, f.sb.IssueCode(sellerID), "")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if n := f.requests(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestContextDeadlineBeforeNextAttempt(t *testing.T) {
	f := newFixture(t)
	// The next attempt would start after the deadline: the client must give up at once rather
	// than wait (a wait would hold the test until go test's timeout).
	f.client.Backoff = func(int) time.Duration { return 2 * time.Hour }
	f.sb.Inject(sandbox.Fault{Status: 500})
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	_, err := f.client.ExchangeCode(ctx, f.sb.IssueCode(sellerID), "")
	if !errors.Is(err, lwa.ErrUnavailable) {
		t.Errorf("err = %v, want ErrUnavailable", err)
	}
}

func TestContextAlreadyCancelled(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.client.Refresh(ctx, "Atzr|mine")
	if !errors.Is(err, context.Canceled) || errors.Is(err, lwa.ErrUnavailable) {
		t.Errorf("err = %v, want context.Canceled only", err)
	}
	if n := f.requests(); n != 0 {
		t.Errorf("%d requests, want 0", n)
	}
}

func TestRedirectIsNotFollowed(t *testing.T) {
	f := newFixture(t)
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, f.client.TokenURL, http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()
	f.client.TokenURL = redirector.URL + sandbox.TokenPath
	_, err := f.client.ExchangeCode(context.Background(), f.sb.IssueCode(sellerID), "")
	if !errors.Is(err, lwa.ErrUnavailable) {
		t.Errorf("err = %v, want ErrUnavailable", err)
	}
	if n := f.requests(); n != 0 {
		t.Errorf("the form with the secret was sent on to the redirect target (%d requests)", n)
	}
}

func TestBadCalls(t *testing.T) {
	f := newFixture(t)
	if _, err := f.client.ExchangeCode(context.Background(), "", ""); err == nil {
		t.Error("empty code accepted")
	}
	if _, err := f.client.Refresh(context.Background(), ""); err == nil {
		t.Error("empty refresh token accepted")
	}
	f.src.current = lwa.Credentials{ClientID: clientID}
	if _, err := f.client.Refresh(context.Background(), "Atzr|mine"); err == nil || errors.Is(err, lwa.ErrUnavailable) {
		t.Errorf("incomplete credentials: %v", err)
	}
	if n := f.requests(); n != 0 {
		t.Errorf("%d requests, want 0", n)
	}
}

func TestNewDefaults(t *testing.T) {
	c := lwa.New(lwa.DefaultTokenURL, nil)
	if c.HTTPClient == nil || c.HTTPClient.Timeout != 10*time.Second {
		t.Error("New does not set a 10s timeout")
	}
	if c.MaxAttempts != 3 || c.Backoff == nil {
		t.Errorf("MaxAttempts %d, Backoff set %v", c.MaxAttempts, c.Backoff != nil)
	}
	if _, err := c.Refresh(context.Background(), "Atzr|mine"); err == nil {
		t.Error("no error without a credential source")
	}
}

func TestInvalidGrantAfterUncertainAttemptIsExplained(t *testing.T) {
	f := newFixture(t)
	code := f.sb.IssueCode(sellerID)
	other := lwa.New(f.client.TokenURL, f.src)
	// While the client waits to retry a 500, something else uses the code, as a first attempt
	// that reached LWA but whose answer was lost would have.
	f.client.Backoff = func(int) time.Duration {
		if _, err := other.ExchangeCode(context.Background(), code, ""); err != nil {
			t.Errorf("using the code meanwhile: %v", err)
		}
		return 0
	}
	f.sb.Inject(sandbox.Fault{Status: 500})
	_, err := f.client.ExchangeCode(context.Background(), code, "")
	if !lwa.IsInvalidGrant(err) {
		t.Fatalf("err = %v, want invalid_grant", err)
	}
	if !strings.Contains(err.Error(), "may have used the code") {
		t.Errorf("no explanation in %q", err)
	}
}

// TestParseTokenURLRefusesPlainHTTP: every request to the token endpoint carries the client secret.
func TestParseTokenURLRefusesPlainHTTP(t *testing.T) {
	for v, ok := range map[string]bool{
		"":                                       true,
		"https://api.amazon.com/auth/o2/token":   true,
		"https://api.amazon.co.uk/auth/o2/token": true,
		"http://127.0.0.1:3001/auth/o2/token":    true,
		"http://localhost:3001/auth/o2/token":    true,
		"http://[::1]:3001/auth/o2/token":        true,
		"http://api.amazon.com/auth/o2/token":    false,
		"http://10.0.0.1/auth/o2/token":          false,
		"http://127.0.0.1.evil.com/token":        false,
		"https://user:pw@api.amazon.com/token":   false,
		"ftp://api.amazon.com/token":             false,
		"api.amazon.com/auth/o2/token":           false,
	} {
		got, err := lwa.ParseTokenURL(v)
		if (err == nil) != ok {
			t.Errorf("ParseTokenURL(%q) = %q, %v; want ok=%v", v, got, err, ok)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("the error repeats the URL's userinfo: %v", err)
		}
	}
}
