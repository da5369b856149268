package fn_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sellerauth/sellerauth/internal/awstest"
	"github.com/sellerauth/sellerauth/internal/fakeclock"
	"github.com/sellerauth/sellerauth/internal/fn"
	authorizefn "github.com/sellerauth/sellerauth/internal/fn/authorize"
	callbackfn "github.com/sellerauth/sellerauth/internal/fn/callback"
	connectapifn "github.com/sellerauth/sellerauth/internal/fn/connectapi"
	loginfn "github.com/sellerauth/sellerauth/internal/fn/login"
	"github.com/sellerauth/sellerauth/internal/httpapi"
	"github.com/sellerauth/sellerauth/internal/sandbox"
)

const (
	applicationID = "amzn1.sp.solution.11111111-2222-3333-4444-555555555555"
	clientID      = "amzn1.application-oa2-client.0123456789abcdef"
	clientSecret  = "amzn1.oa2-cs.v1.first-secret-0123456789"
	redirectURI   = "https://auth.example.com/callback"
	sellerID      = "A3EXAMPLE12345"
)

// logs captures every line any handler of this package logs, so TestMain can prove that no
// token, code, state or secret ever reached one.
var logs = &lockedBuffer{}

// secrets collects every sensitive value the tests saw (states, codes, tokens, client secrets).
var secrets sync.Map

func remember(values ...string) {
	for _, v := range values {
		if v != "" {
			secrets.Store(v, true)
		}
	}
}

func TestMain(m *testing.M) {
	code := awstest.Main(m)
	if code == 0 {
		all := logs.String() + eventBodies.String()
		secrets.Range(func(k, _ any) bool {
			if strings.Contains(all, k.(string)) {
				os.Stderr.WriteString("a secret value reached the logs or an event\n")
				code = 1
			}
			return true
		})
		// A full run must have logged successes; otherwise the capture itself is broken.
		if flag.Lookup("test.run").Value.String() == "" && !strings.Contains(all, "authorization stored") {
			os.Stderr.WriteString("log capture saw no successful authorization: the capture is broken\n")
			code = 1
		}
	}
	os.Exit(code)
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// stack is the three functions wired as in AWS, against moto_server and the Amazon sandbox.
type stack struct {
	t         *testing.T
	aws       *awstest.Env
	tables    awstest.Tables
	secretID  string
	amazon    *sandbox.Sandbox
	lwaURL    string
	clock     *fakeclock.Clock
	env       map[string]string
	calls     *awstest.CallCounter
	cfg       aws.Config // counted by calls
	authorize *httpapi.Handler
	login     *httpapi.Handler
	callback  *httpapi.Handler
	// connectAPI is the app's backend API (connect sessions, connections).
	connectAPI *httpapi.BackendHandler
	// recorders records, per function ("authorize", "login", "callback", "connect-api", "events",
	// "refresh", "rotate"), every AWS operation with its input: what that function's IAM role must allow.
	recorders map[string]*awstest.CallCounter
}

type option func(*stack)

func withEnv(k, v string) option { return func(s *stack) { s.env[k] = v } }

func newStack(t *testing.T, opts ...option) *stack {
	t.Helper()
	return newStackOn(t, awstest.Start(t), opts...)
}

// newStackOn is newStack against env, e.g. a moto_server of the test's own.
func newStackOn(t *testing.T, env *awstest.Env, opts ...option) *stack {
	t.Helper()
	s := &stack{t: t, aws: env, clock: fakeclock.New(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))}
	s.tables = s.aws.CreateTables(t)
	s.secretID = s.aws.CreateSecret(t, secretJSON(clientID, clientSecret))
	remember(clientSecret)
	s.amazon = sandbox.New(sandbox.Options{ClientID: clientID, ClientSecret: clientSecret, Now: s.clock.Now})
	srv := httptest.NewServer(s.amazon.Handler())
	t.Cleanup(srv.Close)
	s.lwaURL = srv.URL + "/auth/o2/token"
	s.env = map[string]string{
		"APPLICATION_ID":            applicationID,
		"APP_DRAFT":                 "true",
		"REDIRECT_URI":              redirectURI,
		"DEFAULT_MARKETPLACE":       "US",
		"STATE_TABLE_NAME":          s.tables.State,
		"TOKEN_TABLE_NAME":          s.tables.Token,
		"SESSION_TABLE_NAME":        s.tables.Session,
		"LWA_CREDENTIALS_SECRET_ID": s.secretID,
		// The website flow of these tests is the anonymous mode; connect_test.go turns it off.
		"ANONYMOUS_AUTHORIZATIONS": "true",
		"LWA_TOKEN_URL":            s.lwaURL,
	}
	for _, o := range opts {
		o(s)
	}
	cfg := s.aws.Config.Copy()
	s.calls = awstest.CountCalls(&cfg)
	s.cfg = cfg
	s.wire(cfg)
	return s
}

func (s *stack) runtime(cfg aws.Config) fn.Runtime {
	return fn.Runtime{
		Getenv:        func(k string) string { return s.env[k] },
		AWS:           cfg,
		Log:           slog.New(slog.NewJSONHandler(logs, nil)),
		Now:           s.clock.Now,
		LWAHTTPClient: &http.Client{Timeout: 300 * time.Millisecond},
	}
}

// recorded returns a copy of cfg whose clients are recorded as the function's (s.recorders[function]),
// in addition to whatever cfg already counts.
func (s *stack) recorded(function string, cfg aws.Config) aws.Config {
	if s.recorders == nil {
		s.recorders = map[string]*awstest.CallCounter{}
	}
	c := cfg.Copy()
	if r, ok := s.recorders[function]; ok {
		r.Record(&c)
	} else {
		s.recorders[function] = awstest.CountCalls(&c)
	}
	return c
}

func (s *stack) wire(cfg aws.Config) {
	s.t.Helper()
	var err error
	if s.authorize, err = authorizefn.New(s.runtime(s.recorded("authorize", cfg))); err != nil {
		s.t.Fatalf("NewAuthorize: %v", err)
	}
	if s.login, err = loginfn.New(s.runtime(s.recorded("login", cfg))); err != nil {
		s.t.Fatalf("NewLogin: %v", err)
	}
	if s.callback, err = callbackfn.New(s.runtime(s.recorded("callback", cfg))); err != nil {
		s.t.Fatalf("NewCallback: %v", err)
	}
	if s.connectAPI, err = connectapifn.New(s.runtime(s.recorded("connect-api", cfg))); err != nil {
		s.t.Fatalf("NewConnectAPI: %v", err)
	}
}

func secretJSON(id, secret string) string {
	b, _ := json.Marshal(map[string]string{"client_id": id, "client_secret": secret})
	return string(b)
}

// event loads a real API Gateway payload 2.0 event from testdata and sets its query and cookies.
func event(t *testing.T, route, rawQuery string, cookies ...string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	b, err := os.ReadFile("testdata/apigw-" + route + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var e events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	e.RawQueryString = rawQuery
	e.QueryStringParameters = joinLikeAPIGateway(rawQuery)
	e.Cookies = append(e.Cookies, cookies...)
	return e
}

// joinLikeAPIGateway builds queryStringParameters as payload 2.0 does: repeated names joined by commas.
func joinLikeAPIGateway(raw string) map[string]string {
	v, _ := url.ParseQuery(raw)
	out := map[string]string{}
	for k, vs := range v {
		out[k] = strings.Join(vs, ",")
	}
	return out
}

func invoke(t *testing.T, h *httpapi.Handler, e events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	res, err := h.Handle(context.Background(), e)
	if err != nil {
		t.Fatalf("handler returned an error (API Gateway would answer 500): %v", err)
	}
	return res
}

// cookieValue returns the state cookie a response sets ("" if none).
func cookieValue(t *testing.T, res events.APIGatewayV2HTTPResponse) string {
	t.Helper()
	for _, c := range res.Cookies {
		if v, ok := strings.CutPrefix(c, httpapi.StateCookieName+"="); ok {
			v, _, _ = strings.Cut(v, ";")
			return v
		}
	}
	return ""
}

// startWebsite runs GET /authorize and returns the state (from the cookie) and the consent URL.
func (s *stack) startWebsite(query string) (state string, consent *url.URL) {
	s.t.Helper()
	res := invoke(s.t, s.authorize, event(s.t, "authorize", query))
	if res.StatusCode != http.StatusFound {
		s.t.Fatalf("authorize: status %d, body %s", res.StatusCode, res.Body)
	}
	state = cookieValue(s.t, res)
	u, err := url.Parse(res.Headers["Location"])
	if err != nil {
		s.t.Fatal(err)
	}
	remember(state)
	return state, u
}

// consent plays Seller Central: the seller consents and Amazon issues a code.
func (s *stack) consent() string {
	code := s.amazon.IssueCodeFor(sellerID, redirectURI)
	remember(code)
	return code
}

func callbackQuery(state, code string) string {
	return url.Values{"state": {state}, "selling_partner_id": {sellerID}, "spapi_oauth_code": {code}}.Encode()
}

func (s *stack) callbackWith(state, code string, cookies ...string) events.APIGatewayV2HTTPResponse {
	s.t.Helper()
	return invoke(s.t, s.callback, event(s.t, "callback", callbackQuery(state, code), cookies...))
}

func stateCookie(state string) string { return httpapi.StateCookieName + "=" + state }
