package fn_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sellerauth/sellerauth/internal/amazon"
	"github.com/sellerauth/sellerauth/internal/dynamo"
)

// The connect-session rules (docs/connections.md), each held by a test here, against moto_server
// and the Amazon sandbox, through the handlers exactly as API Gateway invokes them.

const (
	alice     = "user-alice"
	bob       = "user-bob"
	returnURL = "https://app.example.com/amazon/connected"
)

func withSessions() option {
	return func(s *stack) {
		s.env["ANONYMOUS_AUTHORIZATIONS"] = "false"
		s.env["ALLOWED_RETURN_URLS"] = "https://app.example.com/amazon/"
		s.env["APP_SIGN_IN_URL"] = "https://app.example.com/amazon/sign-in"
	}
}

// backendEvent is an IAM-authorized request of the app's backend, as API Gateway passes it on
// after its IAM authorizer accepted the signature.
func backendEvent(t *testing.T, routeKey, body string, pathParams map[string]string, rawQuery string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	e := event(t, "backend", rawQuery)
	e.RouteKey = routeKey
	method, path, _ := strings.Cut(routeKey, " ")
	for k, v := range pathParams {
		path = strings.Replace(path, "{"+k+"}", url.PathEscape(v), 1)
	}
	e.RawPath = path
	e.RequestContext.HTTP.Method = method
	e.RequestContext.HTTP.Path = path
	e.RequestContext.RouteKey = routeKey
	e.PathParameters = pathParams
	e.Body = body
	return e
}

func (s *stack) backend(e events.APIGatewayV2HTTPRequest) (int, map[string]any, []any) {
	s.t.Helper()
	res, err := s.connectAPI.Handle(s.t.Context(), e)
	if err != nil {
		s.t.Fatalf("backend handler returned an error: %v", err)
	}
	if res.Body == "" {
		return res.StatusCode, nil, nil
	}
	if res.Headers["Content-Type"] != "application/json" {
		s.t.Fatalf("backend answered %q, not JSON", res.Headers["Content-Type"])
	}
	var obj map[string]any
	if strings.HasPrefix(res.Body, "[") {
		var list []any
		if err := json.Unmarshal([]byte(res.Body), &list); err != nil {
			s.t.Fatal(err)
		}
		return res.StatusCode, nil, list
	}
	if err := json.Unmarshal([]byte(res.Body), &obj); err != nil {
		s.t.Fatalf("body %q: %v", res.Body, err)
	}
	return res.StatusCode, obj, nil
}

// createSession is the app's backend asking for a session; it returns the session ID and the
// connect token.
func (s *stack) createSession(body map[string]any) (id, token string) {
	s.t.Helper()
	b, _ := json.Marshal(body)
	status, out, _ := s.backend(backendEvent(s.t, "POST /connect/sessions", string(b), nil, ""))
	if status != http.StatusCreated {
		s.t.Fatalf("create session: %d %v", status, out)
	}
	u, err := url.Parse(out["connect_url"].(string))
	if err != nil {
		s.t.Fatal(err)
	}
	if u.Scheme != "https" || u.Host != "abc123defg.execute-api.us-east-1.amazonaws.com" || u.Path != "/connect" {
		s.t.Fatalf("connect_url %s is not on this API's domain", u.Redacted())
	}
	token = u.Query().Get("session")
	remember(token)
	return out["session_id"].(string), token
}

// open is the seller's browser opening the connect URL; it returns the state cookie's value and
// where the browser was sent.
func (s *stack) open(token string) (state string, location *url.URL) {
	s.t.Helper()
	res := invoke(s.t, s.authorize, s.connectEvent(token))
	if res.StatusCode != http.StatusFound {
		s.t.Fatalf("GET /connect: %d %s", res.StatusCode, res.Body)
	}
	state = cookieValue(s.t, res)
	remember(state)
	u, err := url.Parse(res.Headers["Location"])
	if err != nil {
		s.t.Fatal(err)
	}
	return state, u
}

func (s *stack) connectEvent(token string) events.APIGatewayV2HTTPRequest {
	e := event(s.t, "authorize", url.Values{"session": {token}}.Encode())
	e.RouteKey, e.RawPath, e.RequestContext.HTTP.Path = "GET /connect", "/connect", "/connect"
	return e
}

// finish is Amazon's redirect to the callback after seller consented.
func (s *stack) finish(state, seller string) events.APIGatewayV2HTTPResponse {
	s.t.Helper()
	code := s.amazon.IssueCodeFor(seller, redirectURI)
	remember(code)
	q := url.Values{"state": {state}, "selling_partner_id": {seller}, "spapi_oauth_code": {code}}.Encode()
	return invoke(s.t, s.callback, event(s.t, "callback", q, stateCookie(state)))
}

// connectAs runs a whole session flow for an end user with a seller ID.
func (s *stack) connectAs(endUser, seller string) (sessionID string, res events.APIGatewayV2HTTPResponse) {
	s.t.Helper()
	id, token := s.createSession(map[string]any{"end_user_id": endUser, "return_url": returnURL, "marketplace": "DE"})
	state, _ := s.open(token)
	return id, s.finish(state, seller)
}

func (s *stack) sessionStatus(id string) map[string]any {
	s.t.Helper()
	status, out, _ := s.backend(backendEvent(s.t, "GET /connect/sessions/{session_id}", "", map[string]string{"session_id": id}, ""))
	if status != http.StatusOK {
		s.t.Fatalf("session %s: %d %v", id, status, out)
	}
	return out
}

func (s *stack) rawToken(seller string, region amazon.Region) map[string]types.AttributeValue {
	s.t.Helper()
	out, err := s.aws.DynamoDB.GetItem(s.t.Context(), &dynamodb.GetItemInput{
		TableName: aws.String(s.tables.Token), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{
			"selling_partner_id": &types.AttributeValueMemberS{Value: seller},
			"region":             &types.AttributeValueMemberS{Value: string(region)},
		},
	})
	if err != nil {
		s.t.Fatal(err)
	}
	return out.Item
}

func (s *stack) tokenItem(seller string, region amazon.Region) dynamo.Item {
	s.t.Helper()
	it, err := dynamo.DecodeItem(s.rawToken(seller, region))
	if err != nil {
		s.t.Fatal(err)
	}
	return it
}

func TestSessionFlowConnectsTheEndUser(t *testing.T) {
	s := newStack(t, withSessions())
	id, token := s.createSession(map[string]any{"end_user_id": alice, "marketplace": "DE", "return_url": returnURL + "?tab=amazon"})
	if got := s.sessionStatus(id); got["status"] != "pending" || got["end_user_id"] != alice {
		t.Fatalf("new session = %v", got)
	}
	state, consent := s.open(token)
	if consent.Host != "sellercentral-europe.amazon.com" || consent.Query().Get("state") != state {
		t.Fatalf("GET /connect sent the browser to %s", consent.Redacted())
	}
	if got := s.sessionStatus(id); got["status"] != "opened" {
		t.Fatalf("opened session = %v", got)
	}
	res := s.finish(state, sellerID)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback: %d %s", res.StatusCode, res.Body)
	}
	back, _ := url.Parse(res.Headers["Location"])
	want := url.Values{"session_id": {id}, "status": {"connected"}, "tab": {"amazon"}}
	if got := back.Query(); back.Host != "app.example.com" || !maps.EqualFunc(got, want, func(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") }) {
		t.Fatalf("return URL %s, want the session's return_url with only session_id and status", back)
	}
	if strings.Contains(res.Headers["Location"], sellerID) {
		t.Fatal("the redirect carries the seller ID, which anyone could type")
	}
	got := s.sessionStatus(id)
	if got["status"] != "connected" || got["selling_partner_id"] != sellerID || got["region"] != "eu" || got["account_type"] != "seller" {
		t.Fatalf("connected session = %v", got)
	}
	it := s.tokenItem(sellerID, amazon.RegionEU)
	if it.EndUserID != alice || it.Status != dynamo.StatusActive || it.RefreshToken == "" {
		t.Fatalf("token item = end user %q, status %q", it.EndUserID, it.Status)
	}
	remember(it.RefreshToken, it.AccessToken)

	status, _, list := s.backend(backendEvent(t, "GET /connections", "", nil, "end_user_id="+alice))
	if status != http.StatusOK || len(list) != 1 {
		t.Fatalf("connections of %s: %d %v", alice, status, list)
	}
	c := list[0].(map[string]any)
	if c["selling_partner_id"] != sellerID || c["region"] != "eu" || c["status"] != "active" || c["authorized_at"] != "2026-11-25T12:00:00Z" || c["reauthorize_by"] != "2027-11-25T12:00:00Z" {
		t.Fatalf("connection = %v", c)
	}
	for k := range c {
		if strings.Contains(k, "token") {
			t.Fatalf("a connection carries %s", k)
		}
	}
}

// TestSessionOwnershipAttackIsRefused is the attack of the issue: Bob, who can authorize the app
// with his own Amazon account, finishes his own flow with Alice's selling partner ID. Nothing of
// his is stored, Alice's item is byte-for-byte unchanged, and his session says why.
func TestSessionOwnershipAttackIsRefused(t *testing.T) {
	s := newStack(t, withSessions())
	if _, res := s.connectAs(alice, sellerID); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("alice: %d", res.StatusCode)
	}
	before := s.rawToken(sellerID, amazon.RegionEU)
	remember(s.tokenItem(sellerID, amazon.RegionEU).RefreshToken)

	s.clock.Advance(time.Minute)
	id, res := s.connectAs(bob, sellerID)
	if res.StatusCode != http.StatusConflict || !strings.Contains(res.Body, "another user") {
		t.Fatalf("bob's callback with alice's seller: %d %s", res.StatusCode, res.Body)
	}
	if !clearsCookie(res) {
		t.Fatal("the refused callback left the state cookie")
	}
	after := s.rawToken(sellerID, amazon.RegionEU)
	if !rawEqual(before, after) {
		t.Fatalf("alice's item changed:\nbefore %v\nafter  %v", before, after)
	}
	if got := s.sessionStatus(id); got["status"] != "failed" || got["error"] != "connected_to_another_user" || got["selling_partner_id"] != nil {
		t.Fatalf("bob's session = %v", got)
	}
	// Bob's refresh token exists at Amazon's, but not in our table.
	bobs, _ := s.amazon.RefreshTokenOf(sellerID)
	remember(bobs)
	if it := s.tokenItem(sellerID, amazon.RegionEU); it.RefreshToken == bobs || it.PreviousRefreshToken == bobs {
		t.Fatal("bob's refresh token was stored")
	}
}

// TestAnonymousFlowNeverOverwritesAnEndUsersConnection: in anonymous mode too, an active
// connection that belongs to an end user is nobody else's to replace.
func TestAnonymousFlowNeverOverwritesAnEndUsersConnection(t *testing.T) {
	s := newStack(t, withSessions(), withEnv("ANONYMOUS_AUTHORIZATIONS", "true"))
	s.connectAs(alice, sellerID)
	before := s.rawToken(sellerID, amazon.RegionEU)
	s.clock.Advance(time.Minute)
	state, _ := s.startWebsite("marketplace=DE")
	res := s.callbackWith(state, s.consent(), stateCookie(state))
	if res.StatusCode != http.StatusConflict {
		t.Fatalf("anonymous callback over alice's connection: %d", res.StatusCode)
	}
	if !rawEqual(before, s.rawToken(sellerID, amazon.RegionEU)) {
		t.Fatal("alice's item changed")
	}
}

// TestRenewalByTheOwnerKeepsTheReplacedTokenRestorable: the owner authorizes again (the yearly
// renewal); the replaced refresh token is kept with when and whose it was, and an operator can
// put it back.
func TestRenewalByTheOwnerKeepsTheReplacedTokenRestorable(t *testing.T) {
	s := newStack(t, withSessions(), withEnv("HISTORY_RETENTION_DAYS", "30"))
	s.connectAs(alice, sellerID)
	first := s.tokenItem(sellerID, amazon.RegionEU)
	remember(first.RefreshToken, first.AccessToken)

	s.clock.Advance(24 * time.Hour)
	id, res := s.connectAs(alice, sellerID)
	if res.StatusCode != http.StatusSeeOther || s.sessionStatus(id)["status"] != "connected" {
		t.Fatalf("renewal: %d", res.StatusCode)
	}
	second := s.tokenItem(sellerID, amazon.RegionEU)
	remember(second.RefreshToken, second.AccessToken)
	switch {
	case second.RefreshToken == first.RefreshToken:
		t.Fatal("the renewal did not store the new refresh token")
	case second.PreviousRefreshToken != first.RefreshToken:
		t.Fatal("the replaced refresh token was not kept")
	case second.PreviousEndUserID != alice || second.PreviousStatus != dynamo.StatusActive || !second.PreviousAuthorizedAt.Equal(first.AuthorizedAt):
		t.Fatalf("history = end user %q, status %q, authorized %v", second.PreviousEndUserID, second.PreviousStatus, second.PreviousAuthorizedAt)
	case !second.PreviousKeptUntil.Equal(second.AuthorizedAt.Add(30 * 24 * time.Hour)):
		t.Fatalf("kept until %v, want 30 days (HISTORY_RETENTION_DAYS)", second.PreviousKeptUntil)
	}

	store := &dynamo.TokenStore{Client: s.aws.DynamoDB, Table: s.tables.Token, Now: s.clock.Now, HistoryRetention: 30 * 24 * time.Hour}
	restored, err := store.Restore(t.Context(), sellerID, amazon.RegionEU)
	if err != nil {
		t.Fatal(err)
	}
	if restored.RefreshToken != first.RefreshToken || restored.PreviousRefreshToken != second.RefreshToken ||
		restored.EndUserID != alice || restored.AccessToken != "" || restored.RefreshDueAt.After(s.clock.Now()) {
		t.Fatal("restore did not put the first refresh token back (keeping the second, dropping the access token, due now)")
	}
	s.clock.Advance(31 * 24 * time.Hour)
	if _, err := store.Restore(t.Context(), sellerID, amazon.RegionEU); err == nil {
		t.Fatal("restored a refresh token past HISTORY_RETENTION_DAYS")
	}
}

// TestDisconnectDeletesEveryToken: the app disconnects; the item, its tokens and its history are
// gone, and only the owner's guard can stop it.
func TestDisconnectDeletesEveryToken(t *testing.T) {
	s := newStack(t, withSessions())
	s.connectAs(alice, sellerID)
	s.clock.Advance(time.Hour)
	s.connectAs(alice, sellerID) // a history to delete too
	remember(s.tokenItem(sellerID, amazon.RegionEU).RefreshToken)
	path := map[string]string{"selling_partner_id": sellerID, "region": "eu"}
	route := "DELETE /connections/{selling_partner_id}/{region}"
	if status, out, _ := s.backend(backendEvent(t, route, "", path, "end_user_id="+bob)); status != http.StatusConflict || out["error"] != "connected_to_another_user" {
		t.Fatalf("bob disconnecting alice's seller: %d %v", status, out)
	}
	if status, out, _ := s.backend(backendEvent(t, route, "", path, "end_user_id="+alice)); status != http.StatusNoContent {
		t.Fatalf("disconnect: %d %v", status, out)
	}
	if item := s.rawToken(sellerID, amazon.RegionEU); item != nil {
		t.Fatalf("the item is still there: %d attributes", len(item))
	}
	if status, out, _ := s.backend(backendEvent(t, route, "", path, "")); status != http.StatusNotFound {
		t.Fatalf("second disconnect: %d %v", status, out)
	}
	// Bob may now connect the seller.
	if _, res := s.connectAs(bob, sellerID); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("bob after the disconnect: %d", res.StatusCode)
	}
}

// TestSessionLinkWorksOnce: two browsers open the same link at once; one wins, the other gets
// an error page and nothing is written for it. A used link stays refused.
func TestSessionLinkWorksOnce(t *testing.T) {
	s := newStack(t, withSessions())
	_, token := s.createSession(map[string]any{"end_user_id": alice})
	var wg sync.WaitGroup
	res := make([]events.APIGatewayV2HTTPResponse, 2)
	for i := range res {
		wg.Go(func() { res[i] = invoke(t, s.authorize, s.connectEvent(token)) })
	}
	wg.Wait()
	// DynamoDB applies a conditional update atomically, so one open wins and the other gets 410.
	// moto_server checks the condition and writes without a lock, so now and then both of its
	// answers are 302; even then the second write replaced the first one's state, so exactly one
	// browser can finish the flow. That is the property sellers rely on, and it is asserted here
	// whatever moto did.
	opened := 0
	for _, r := range res {
		switch r.StatusCode {
		case http.StatusFound:
			opened++
		case http.StatusGone:
		default:
			t.Fatalf("concurrent open: %d", r.StatusCode)
		}
	}
	if opened == 0 {
		t.Fatal("neither concurrent open won")
	}
	finished := 0
	for i, r := range res {
		if r.StatusCode != http.StatusFound {
			continue
		}
		state := cookieValue(t, r)
		remember(state)
		if got := s.finish(state, fmt.Sprintf("A%dBROWSER", i)); got.StatusCode < 400 {
			finished++
		}
	}
	if finished != 1 {
		t.Fatalf("%d browsers finished one session's flow (opens answered %d and %d), want exactly 1", finished, res[0].StatusCode, res[1].StatusCode)
	}
	again := invoke(t, s.authorize, s.connectEvent(token))
	if again.StatusCode != http.StatusGone || len(again.Cookies) != 0 {
		t.Fatalf("reused link: %d, cookies %v", again.StatusCode, again.Cookies)
	}
}

// TestSessionExpiryIsCheckedOnRead: DynamoDB's TTL deletes days late; an expired link is refused
// and reads as expired while still in the table.
func TestSessionExpiryIsCheckedOnRead(t *testing.T) {
	s := newStack(t, withSessions(), withEnv("CONNECT_SESSION_TTL_SECONDS", "600"))
	id, token := s.createSession(map[string]any{"end_user_id": alice})
	s.clock.Advance(10 * time.Minute)
	if got := s.sessionStatus(id); got["status"] != "expired" {
		t.Fatalf("status after 10 minutes = %v", got["status"])
	}
	if res := invoke(t, s.authorize, s.connectEvent(token)); res.StatusCode != http.StatusGone || !strings.Contains(res.Body, "expired") {
		t.Fatalf("expired link: %d", res.StatusCode)
	}
	// An opened session whose state expired: the callback is refused and the session is expired.
	id, token = s.createSession(map[string]any{"end_user_id": alice})
	state, _ := s.open(token)
	s.clock.Advance(15 * time.Minute)
	if res := s.finish(state, sellerID); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("callback after the state expired: %d", res.StatusCode)
	}
	if got := s.sessionStatus(id); got["status"] != "expired" {
		t.Fatalf("status = %v", got["status"])
	}
	if s.rawToken(sellerID, amazon.RegionNA) != nil {
		t.Fatal("an expired session stored tokens")
	}
}

// TestSessionSecretsAreStoredOnlyHashed: a read of the session table cannot open a session or
// finish a flow. (Logs are searched for every token by TestMain.)
func TestSessionSecretsAreStoredOnlyHashed(t *testing.T) {
	s := newStack(t, withSessions())
	id, token := s.createSession(map[string]any{"end_user_id": alice})
	state, _ := s.open(token)
	out, err := s.aws.DynamoDB.Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String(s.tables.Session)})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(out.Items)
	for _, secret := range []string{token, state, token[22:], state[22:]} {
		if bytes.Contains(b, []byte(secret)) {
			t.Fatal("the session table holds a connect token or state in clear")
		}
	}
	if !bytes.Contains(b, []byte(id)) {
		t.Fatal("the scan did not find the session: the check is broken")
	}
}

// TestBackendRefusesRequestsWithoutIAM: a route misconfigured without the IAM authorizer still
// answers nothing.
func TestBackendRefusesRequestsWithoutIAM(t *testing.T) {
	s := newStack(t, withSessions())
	e := backendEvent(t, "POST /connect/sessions", `{"end_user_id":"x"}`, nil, "")
	e.RequestContext.Authorizer = nil
	if status, out, _ := s.backend(e); status != http.StatusForbidden || out["error"] != "forbidden" {
		t.Fatalf("no authorizer: %d %v", status, out)
	}
	e = backendEvent(t, "GET /connections", "", nil, "end_user_id=x")
	e.RequestContext.Authorizer.IAM = nil
	if status, _, _ := s.backend(e); status != http.StatusForbidden {
		t.Fatalf("no iam block: %d", status)
	}
}

func TestBackendJSONErrors(t *testing.T) {
	s := newStack(t, withSessions())
	for _, tc := range []struct {
		name, body string
		status     int
		code       string
		field      string
	}{
		{"unknown field", `{"end_user_id":"a","seller":"X"}`, 400, "unknown_field", "seller"},
		{"not JSON", `end_user_id=a`, 400, "invalid_json", ""},
		{"empty", ``, 400, "invalid_json", ""},
		{"two objects", `{"end_user_id":"a"}{"end_user_id":"b"}`, 400, "invalid_json", ""},
		{"wrong type", `{"end_user_id":7}`, 400, "invalid_json", "end_user_id"},
		{"too large", `{"end_user_id":"` + strings.Repeat("a", 20000) + `"}`, 413, "body_too_large", ""},
		{"missing end user", `{}`, 422, "invalid_value", "end_user_id"},
		{"end user too long", `{"end_user_id":"` + strings.Repeat("a", 129) + `"}`, 422, "invalid_value", "end_user_id"},
		{"end user not printable", `{"end_user_id":"a\nb"}`, 422, "invalid_value", "end_user_id"},
		{"unknown marketplace", `{"end_user_id":"a","marketplace":"XX"}`, 422, "invalid_value", "marketplace"},
		{"bad account type", `{"end_user_id":"a","account_type":"buyer"}`, 422, "invalid_value", "account_type"},
		{"vendor without Vendor Central", `{"end_user_id":"a","marketplace":"IE","account_type":"vendor"}`, 422, "invalid_value", "account_type"},
		{"return URL elsewhere", `{"end_user_id":"a","return_url":"https://app.example.com.evil.com/amazon/x"}`, 422, "invalid_value", "return_url"},
		{"return URL outside the prefix", `{"end_user_id":"a","return_url":"https://app.example.com/admin"}`, 422, "invalid_value", "return_url"},
		{"callback not Amazon's", `{"end_user_id":"a","amazon_callback_uri":"https://evil.example/x","amazon_state":"s"}`, 422, "invalid_value", "amazon_callback_uri"},
		{"callback without state", `{"end_user_id":"a","amazon_callback_uri":"https://sellercentral.amazon.de/apps/authorize/confirm/x"}`, 422, "invalid_value", "amazon_state"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out, _ := s.backend(backendEvent(t, "POST /connect/sessions", tc.body, nil, ""))
			if status != tc.status || out["error"] != tc.code || (tc.field != "" && out["field"] != tc.field) {
				t.Fatalf("%d %v, want %d %s naming %q", status, out, tc.status, tc.code, tc.field)
			}
			if out["message"] == "" {
				t.Fatal("no message")
			}
		})
	}
	for name, id := range map[string]string{"malformed": "nope", "unknown": "cs_AAAAAAAAAAAAAAAAAAAAAA"} {
		status, out, _ := s.backend(backendEvent(t, "GET /connect/sessions/{session_id}", "", map[string]string{"session_id": id}, ""))
		if status != http.StatusNotFound || out["error"] != "session_not_found" {
			t.Errorf("%s session: %d %v", name, status, out)
		}
	}
	if status, out, _ := s.backend(backendEvent(t, "GET /connections", "", nil, "")); status != http.StatusBadRequest || out["field"] != "end_user_id" {
		t.Errorf("connections without end_user_id: %d %v", status, out)
	}
	if status, out, _ := s.backend(backendEvent(t, "DELETE /connections/{selling_partner_id}/{region}", "", map[string]string{"selling_partner_id": sellerID, "region": "mars"}, "")); status != http.StatusUnprocessableEntity || out["field"] != "region" {
		t.Errorf("disconnect in region mars: %d %v", status, out)
	}
}

// TestAnonymousAuthorizationsOff: without the anonymous mode, nothing starts but a session.
func TestAnonymousAuthorizationsOff(t *testing.T) {
	s := newStack(t, withSessions())
	for _, route := range []string{"landing", "authorize"} {
		res := invoke(t, s.authorize, event(t, route, ""))
		if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Body, "starts in the app") || len(res.Cookies) != 0 {
			t.Errorf("%s: %d", route, res.StatusCode)
		}
	}
	// An Appstore-started flow goes to the app's sign-in with Amazon's values, resolved.
	q := url.Values{"amazon_callback_uri": {"https://sellercentral.amazon.co.uk/apps/authorize/confirm/x"},
		"amazon_state": {"amz-state"}, "selling_partner_id": {sellerID}}.Encode()
	res := invoke(t, s.login, event(t, "login", q))
	u, _ := url.Parse(res.Headers["Location"])
	if res.StatusCode != http.StatusFound || u.Host != "app.example.com" || u.Query().Get("amazon_state") != "amz-state" ||
		u.Query().Get("amazon_callback_uri") != "https://sellercentral.amazon.co.uk/apps/authorize/confirm/x" || len(res.Cookies) != 0 {
		t.Fatalf("login without a session: %d → %s", res.StatusCode, u)
	}
	// An anonymous state (say, from before the switch) completes nothing.
	st := newStack(t)
	state, _ := st.startWebsite("")
	s.env["STATE_TABLE_NAME"] = st.tables.State
	s.wire(s.cfg)
	if res := s.callbackWith(state, s.consent(), stateCookie(state)); res.StatusCode != http.StatusForbidden {
		t.Fatalf("callback with an anonymous state: %d", res.StatusCode)
	}
	// Without APP_SIGN_IN_URL the seller is told to start from the app.
	s.env["APP_SIGN_IN_URL"] = ""
	s.wire(s.cfg)
	if res := invoke(t, s.login, event(t, "login", q)); res.StatusCode != http.StatusForbidden {
		t.Fatalf("login without a session or sign-in URL: %d", res.StatusCode)
	}
}

// TestAppstoreFlowResumedBySession: the app signed its user in and created a session with
// Amazon's values; the connect URL continues Amazon's step, and the callback connects the user.
func TestAppstoreFlowResumedBySession(t *testing.T) {
	s := newStack(t, withSessions())
	callback := "https://sellercentral.amazon.co.uk/apps/authorize/confirm/amzn1.sp.solution.x"
	id, token := s.createSession(map[string]any{"end_user_id": alice, "amazon_callback_uri": callback, "amazon_state": "amz-state"})
	state, next := s.open(token)
	q := next.Query()
	if next.Host != "sellercentral.amazon.co.uk" || q.Get("amazon_state") != "amz-state" || q.Get("state") != state ||
		q.Get("redirect_uri") != redirectURI || q.Get("version") != "beta" {
		t.Fatalf("GET /connect of a resumed flow went to %s", next.Redacted())
	}
	if res := s.finish(state, sellerID); res.StatusCode != http.StatusOK {
		t.Fatalf("callback: %d", res.StatusCode)
	}
	if got := s.sessionStatus(id); got["status"] != "connected" || got["region"] != "eu" {
		t.Fatalf("session = %v", got)
	}
}

// TestLogInStepOfASessionFollowsAmazonsRegion: the seller was sent to DE but consented on the
// Japanese Seller Central; the log-in step keeps the session's state and moves it to fe.
func TestLogInStepOfASessionFollowsAmazonsRegion(t *testing.T) {
	s := newStack(t, withSessions())
	id, token := s.createSession(map[string]any{"end_user_id": alice, "marketplace": "DE"})
	state, _ := s.open(token)
	q := url.Values{"amazon_callback_uri": {"https://sellercentral.amazon.co.jp/apps/authorize/confirm/x"}, "amazon_state": {"a"}}.Encode()
	res := invoke(t, s.login, event(t, "login", q, stateCookie(state)))
	if res.StatusCode != http.StatusFound || len(res.Cookies) != 0 {
		t.Fatalf("login: %d, cookies %v", res.StatusCode, res.Cookies)
	}
	if res := s.finish(state, sellerID); res.StatusCode != http.StatusOK {
		t.Fatalf("callback: %d", res.StatusCode)
	}
	if got := s.sessionStatus(id); got["region"] != "fe" {
		t.Fatalf("session region = %v, want fe", got["region"])
	}
	if it := s.tokenItem(sellerID, amazon.RegionFE); it.EndUserID != alice {
		t.Fatal("not stored in fe")
	}
}

// TestSessionFailureIsRecorded: Amazon refuses the code; the session says so.
func TestSessionFailureIsRecorded(t *testing.T) {
	s := newStack(t, withSessions())
	id, token := s.createSession(map[string]any{"end_user_id": alice})
	state, _ := s.open(token)
	q := url.Values{"state": {state}, "selling_partner_id": {sellerID}, "spapi_oauth_code": {"not-a-code"}}.Encode()
	if res := invoke(t, s.callback, event(t, "callback", q, stateCookie(state))); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("callback: %d", res.StatusCode)
	}
	if got := s.sessionStatus(id); got["status"] != "failed" || got["error"] != "code_rejected" {
		t.Fatalf("session = %v", got)
	}
}

func clearsCookie(res events.APIGatewayV2HTTPResponse) bool {
	for _, c := range res.Cookies {
		if strings.Contains(c, "Max-Age=0") {
			return true
		}
	}
	return false
}

func rawEqual(a, b map[string]types.AttributeValue) bool {
	ja, _ := json.Marshal(shapeOf(a))
	jb, _ := json.Marshal(shapeOf(b))
	return len(a) > 0 && bytes.Equal(ja, jb)
}

func shapeOf(item map[string]types.AttributeValue) map[string]string {
	out := map[string]string{}
	for k, v := range item {
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			out[k] = "S:" + v.Value
		case *types.AttributeValueMemberN:
			out[k] = "N:" + v.Value
		default:
			b, _ := json.Marshal(v)
			out[k] = string(b)
		}
	}
	return out
}
