package fn_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/sellerauth/sellerauth/internal/amazon"
	"github.com/sellerauth/sellerauth/internal/authflow"
	"github.com/sellerauth/sellerauth/internal/awstest"
	"github.com/sellerauth/sellerauth/internal/dynamo"
	"github.com/sellerauth/sellerauth/internal/fn"
	authorizefn "github.com/sellerauth/sellerauth/internal/fn/authorize"
	callbackfn "github.com/sellerauth/sellerauth/internal/fn/callback"
	connectapifn "github.com/sellerauth/sellerauth/internal/fn/connectapi"
	eventsfn "github.com/sellerauth/sellerauth/internal/fn/events"
	loginfn "github.com/sellerauth/sellerauth/internal/fn/login"
	refreshfn "github.com/sellerauth/sellerauth/internal/fn/refresh"
	rotatesecretfn "github.com/sellerauth/sellerauth/internal/fn/rotatesecret"
	"github.com/sellerauth/sellerauth/internal/lwa"
)

// TestCallBudgetNoNetworkDuringInit builds every function exactly as its main does, with every
// endpoint pointing at a listener that counts connections: init must not open one.
func TestCallBudgetNoNetworkDuringInit(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	endpoint := "http://" + ln.Addr().String()
	env := map[string]string{
		"AWS_ENDPOINT_URL":          endpoint,
		"AWS_REGION":                "us-east-1",
		"AWS_ACCESS_KEY_ID":         "AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY":     "example",
		"AWS_SESSION_TOKEN":         "example",
		"APPLICATION_ID":            applicationID,
		"STATE_TABLE_NAME":          "state",
		"TOKEN_TABLE_NAME":          "token",
		"SESSION_TABLE_NAME":        "session",
		"LWA_CREDENTIALS_SECRET_ID": "secret",
		"LWA_TOKEN_URL":             endpoint + "/auth/o2/token",
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	r := fn.Start() // exactly what every main does first
	for name, build := range map[string]func(fn.Runtime) (any, error){
		"authorize":   func(r fn.Runtime) (any, error) { return authorizefn.New(r) },
		"login":       func(r fn.Runtime) (any, error) { return loginfn.New(r) },
		"callback":    func(r fn.Runtime) (any, error) { return callbackfn.New(r) },
		"refresh":     func(r fn.Runtime) (any, error) { return refreshfn.New(r) },
		"rotate":      func(r fn.Runtime) (any, error) { return rotatesecretfn.New(r) },
		"connect-api": func(r fn.Runtime) (any, error) { return connectapifn.New(r) },
	} {
		if _, err := build(r); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if n := conns.Load(); n != 0 {
		t.Fatalf("init opened %d network connections, want 0", n)
	}
	t.Logf("network connections during init of authorize, login, callback, connect-api, refresh, rotate: %d", conns.Load())
}

// TestCallBudgetPerRequest counts the AWS and LWA calls each request makes, cold and warm.
func TestCallBudgetPerRequest(t *testing.T) {
	s := newStack(t)
	type budget struct {
		route    string
		aws      map[string]int
		lwaCalls int
	}
	measure := func(run func()) (map[string]int, int) {
		s.calls.Reset()
		before := s.amazon.Stats().TokenRequests
		run()
		return s.calls.Counts(), s.amazon.Stats().TokenRequests - before
	}
	var got []budget
	check := func(route string, aws map[string]int, lwaCalls int, wantAWS map[string]int, wantLWA int) {
		t.Helper()
		got = append(got, budget{route, aws, lwaCalls})
		if !maps.Equal(aws, wantAWS) || lwaCalls != wantLWA {
			t.Errorf("%s: AWS calls %v and %d LWA calls, want %v and %d", route, aws, lwaCalls, wantAWS, wantLWA)
		}
	}

	var state string
	a, l := measure(func() { state, _ = s.startWebsite("") })
	check("GET /authorize", a, l, map[string]int{"DynamoDB.PutItem": 1}, 0)

	a, l = measure(func() {
		q := "amazon_callback_uri=%2Fapps%2Fauthorize%2Fconfirm%2Fx&amazon_state=s"
		if res := invoke(t, s.login, event(t, "login", q, stateCookie(state))); res.StatusCode != http.StatusFound {
			t.Fatalf("login %d", res.StatusCode)
		}
	})
	check("GET /login (website flow)", a, l, map[string]int{"DynamoDB.GetItem": 1}, 0)

	code := s.consent()
	a, l = measure(func() {
		if res := s.callbackWith(state, code, stateCookie(state)); res.StatusCode != http.StatusOK {
			t.Fatalf("callback %d", res.StatusCode)
		}
	})
	check("GET /callback (cold)", a, l, map[string]int{"DynamoDB.DeleteItem": 1, "DynamoDB.UpdateItem": 1, "SecretsManager.GetSecretValue": 1}, 1)

	state, _ = s.startWebsite("")
	code = s.consent()
	a, l = measure(func() {
		if res := s.callbackWith(state, code, stateCookie(state)); res.StatusCode != http.StatusOK {
			t.Fatalf("callback %d", res.StatusCode)
		}
	})
	check("GET /callback (warm)", a, l, map[string]int{"DynamoDB.DeleteItem": 1, "DynamoDB.UpdateItem": 1}, 1)

	// The connect-session routes (docs/connections.md): a session's whole flow.
	s.env["ANONYMOUS_AUTHORIZATIONS"] = "false"
	s.wire(s.cfg)
	var id, token string
	a, l = measure(func() { id, token = s.createSession(map[string]any{"end_user_id": alice}) })
	check("POST /connect/sessions", a, l, map[string]int{"DynamoDB.PutItem": 1}, 0)
	var sessState string
	a, l = measure(func() { sessState, _ = s.open(token) })
	check("GET /connect", a, l, map[string]int{"DynamoDB.UpdateItem": 1}, 0)
	a, l = measure(func() {
		q := "amazon_callback_uri=%2Fapps%2Fauthorize%2Fconfirm%2Fx&amazon_state=s"
		if res := invoke(t, s.login, event(t, "login", q, stateCookie(sessState))); res.StatusCode != http.StatusFound {
			t.Fatalf("login %d", res.StatusCode)
		}
	})
	check("GET /login (session)", a, l, map[string]int{"DynamoDB.GetItem": 1}, 0)
	a, l = measure(func() {
		// Another seller: the anonymous authorization of sellerID above is nobody's to replace.
		if res := s.finish(sessState, "A2SESSIONSELLER"); res.StatusCode != http.StatusOK {
			t.Fatalf("callback %d %s", res.StatusCode, res.Body)
		}
	})
	check("GET /callback (session, cold)", a, l, map[string]int{"DynamoDB.UpdateItem": 1, "DynamoDB.TransactWriteItems": 1, "SecretsManager.GetSecretValue": 1}, 1)
	_, token2 := s.createSession(map[string]any{"end_user_id": alice})
	state2, _ := s.open(token2)
	s.clock.Advance(time.Second) // a renewal, later than the first authorization
	a, l = measure(func() {
		if res := s.finish(state2, "A2SESSIONSELLER"); res.StatusCode != http.StatusOK {
			t.Fatalf("callback %d", res.StatusCode)
		}
	})
	check("GET /callback (session, warm)", a, l, map[string]int{"DynamoDB.UpdateItem": 1, "DynamoDB.TransactWriteItems": 1}, 1)
	a, l = measure(func() { s.sessionStatus(id) })
	check("GET /connect/sessions/{id}", a, l, map[string]int{"DynamoDB.GetItem": 1}, 0)
	a, l = measure(func() {
		if status, _, _ := s.backend(backendEvent(t, "GET /connections", "", nil, "end_user_id="+alice)); status != http.StatusOK {
			t.Fatalf("connections %d", status)
		}
	})
	check("GET /connections", a, l, map[string]int{"DynamoDB.Query": 1}, 0)
	a, l = measure(func() {
		path := map[string]string{"selling_partner_id": "A2SESSIONSELLER", "region": "na"}
		if status, _, _ := s.backend(backendEvent(t, "DELETE /connections/{selling_partner_id}/{region}", "", path, "")); status != http.StatusNoContent {
			t.Fatalf("disconnect %d", status)
		}
	})
	check("DELETE /connections/…", a, l, map[string]int{"DynamoDB.DeleteItem": 1}, 0)

	for _, b := range got {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(b.aws)) {
			parts = append(parts, k+"="+strconv.Itoa(b.aws[k]))
		}
		t.Logf("%-30s AWS: %-70s LWA: %d", b.route, strings.Join(parts, " "), b.lwaCalls)
	}
}

// TestCallBudgetEvents counts what lifecycle events cost: the events function's invocations and
// PutEvents calls per authorization, and per 1,000 plain refreshes (none: the stream filter drops
// them before Lambda would invoke anything).
func TestCallBudgetEvents(t *testing.T) {
	s := newStack(t, withSessions())
	// N sellers authorized before the measurement (their own events are not counted): 1,000 under
	// make measure, fewer in make test, where the figure (zero) holds all the same.
	n := 200
	if v, err := strconv.Atoi(os.Getenv("EVENTS_BUDGET_REFRESHES")); err == nil && v > 0 {
		n = v
	}
	store := &dynamo.TokenStore{Client: dynamodb.NewFromConfig(s.aws.Config), Table: s.tables.Token, Now: s.clock.Now}
	now := s.clock.Now()
	for i := range n {
		seller := fmt.Sprintf("A%dSELLER", i)
		tok, err := s.lwaExchange(s.amazon.IssueCodeFor(seller, redirectURI))
		if err != nil {
			t.Fatal(err)
		}
		if err := store.SaveAuthorization(t.Context(), authflow.Authorization{
			SellingPartnerID: seller, Region: amazon.RegionFE, AccountType: amazon.Seller, EndUserID: bob,
			RefreshToken: tok.RefreshToken, AccessToken: tok.AccessToken, AccessTokenExpiresAt: now.Add(time.Hour), AuthorizedAt: now,
		}); err != nil {
			t.Fatal(err)
		}
	}
	p := s.withEventPipe()
	counted := s.aws.Config.Copy()
	calls := awstest.CountCalls(&counted)
	h, err := eventsfn.New(s.runtime(counted))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range p.mappings {
		m.Handler = h.Handle
		if err := m.Poller.Skip(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	measure := func(run func()) (invocations, putEvents int) {
		before := p.invocations()
		calls.Reset()
		run()
		p.drain()
		return p.invocations() - before, calls.Count("EventBridge.PutEvents")
	}

	inv, put := measure(func() { s.connectAs(alice, sellerID) })
	t.Logf("one authorization:   %d invocation(s), %d PutEvents call(s)", inv, put)
	if inv != 1 || put != 1 {
		t.Errorf("one authorization: %d invocations, %d PutEvents; want 1 and 1", inv, put)
	}

	refresh, err := refreshfn.New(s.runtime(s.cfg))
	if err != nil {
		t.Fatal(err)
	}
	s.clock.Advance(time.Hour - dynamo.RefreshLead)
	var refreshed int64
	inv, put = measure(func() {
		res, err := refresh.Handle(t.Context(), json.RawMessage(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		refreshed = res.Refreshed
	})
	t.Logf("%d refreshes:       %d invocation(s), %d PutEvents call(s)", refreshed, inv, put)
	if refreshed < int64(n) || inv != 0 || put != 0 {
		t.Errorf("%d refreshes: %d invocations, %d PutEvents; want %d+, 0 and 0", refreshed, inv, put, n)
	}
}

// lwaExchange trades a code at the sandbox, as the callback does, for seeding tokens.
func (s *stack) lwaExchange(code string) (lwa.Token, error) {
	remember(code)
	tok, err := lwa.New(s.lwaURL, lwa.Static{ClientID: clientID, ClientSecret: clientSecret}).ExchangeCode(s.t.Context(), code, redirectURI)
	remember(tok.RefreshToken, tok.AccessToken)
	return tok, err
}
