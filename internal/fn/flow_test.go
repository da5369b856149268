package fn_test

import (
	"context"
	"encoding/base64"
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
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/sellerauth/sellerauth/internal/amazon"
	"github.com/sellerauth/sellerauth/internal/dynamo"
	callbackfn "github.com/sellerauth/sellerauth/internal/fn/callback"
	"github.com/sellerauth/sellerauth/internal/httpapi"
	"github.com/sellerauth/sellerauth/internal/sandbox"
)

func assertCommonHeaders(t *testing.T, res events.APIGatewayV2HTTPResponse) {
	t.Helper()
	if got := res.Headers["Cache-Control"]; got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
	if got := res.Headers["Referrer-Policy"]; got != "no-referrer" {
		t.Errorf("Referrer-Policy = %q, want no-referrer", got)
	}
}

func assertCookieCleared(t *testing.T, res events.APIGatewayV2HTTPResponse) {
	t.Helper()
	for _, c := range res.Cookies {
		if strings.HasPrefix(c, "__Host-spapi_oauth_state=;") && strings.Contains(c, "Max-Age=0") {
			return
		}
	}
	t.Errorf("state cookie not cleared: cookies %q", res.Cookies)
}

func problemCode(t *testing.T, res events.APIGatewayV2HTTPResponse) string {
	t.Helper()
	var p struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(res.Body), &p); err != nil {
		t.Fatalf("body is not JSON: %q", res.Body)
	}
	return p.Error
}

func jsonEvent(e events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPRequest {
	h := map[string]string{}
	for k, v := range e.Headers {
		h[k] = v
	}
	h["accept"] = "application/json"
	e.Headers = h
	return e
}

func (s *stack) storedItem(region amazon.Region) dynamo.Item {
	s.t.Helper()
	store := &dynamo.TokenStore{Client: s.aws.DynamoDB, Table: s.tables.Token}
	item, err := store.Get(s.t.Context(), sellerID, region)
	if err != nil {
		s.t.Fatalf("read token item: %v", err)
	}
	remember(item.AccessToken, item.RefreshToken)
	return item
}

func TestWebsiteFlowStoresTokens(t *testing.T) {
	s := newStack(t)
	state, consent := s.startWebsite("marketplace=US")

	if consent.Scheme+"://"+consent.Host != "https://sellercentral.amazon.com" || consent.Path != "/apps/authorize/consent" {
		t.Fatalf("consent URL %s", consent.Redacted())
	}
	q := consent.Query()
	for k, want := range map[string]string{"application_id": applicationID, "state": state, "redirect_uri": redirectURI, "version": "beta"} {
		if q.Get(k) != want {
			t.Errorf("consent %s = %q, want %q", k, q.Get(k), want)
		}
	}

	res := s.callbackWith(state, s.consent(), stateCookie(state))
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "Authorization complete") {
		t.Fatalf("callback: %d %s", res.StatusCode, res.Body)
	}
	assertCommonHeaders(t, res)
	assertCookieCleared(t, res)

	item := s.storedItem(amazon.RegionNA)
	if item.Status != "active" || item.AccountType != "seller" || item.Version != 1 {
		t.Errorf("item = %+v", item)
	}
	if !s.amazon.AccessTokenValid(item.AccessToken) {
		t.Error("stored access token is not one the sandbox issued")
	}
	if rt, _ := s.amazon.RefreshTokenOf(sellerID); rt != item.RefreshToken {
		t.Error("stored refresh token differs from the one LWA issued")
	}
	if strings.Contains(res.Body, item.AccessToken) || strings.Contains(res.Body, item.RefreshToken) {
		t.Error("a token reached the page")
	}
}

func TestLogInStepWebsiteFlowReusesState(t *testing.T) {
	s := newStack(t)
	state, _ := s.startWebsite("marketplace=DE&account_type=vendor")

	q := url.Values{
		"amazon_callback_uri": {"/apps/authorize/confirm/" + applicationID},
		"amazon_state":        {"amzn-state-xyz"},
		"selling_partner_id":  {sellerID},
		"version":             {"beta"},
	}
	res := invoke(t, s.login, event(t, "login", q.Encode(), stateCookie(state)))
	if res.StatusCode != http.StatusFound {
		t.Fatalf("login: %d %s", res.StatusCode, res.Body)
	}
	assertCommonHeaders(t, res)
	if len(res.Cookies) != 0 {
		t.Errorf("a live state must be reused, got cookies %q", res.Cookies)
	}
	loc, _ := url.Parse(res.Headers["Location"])
	// A relative callback resolves against the origin the seller was sent to: DE Vendor Central.
	if loc.Scheme+"://"+loc.Host != "https://vendorcentral.amazon.de" || loc.Path != "/apps/authorize/confirm/"+applicationID {
		t.Fatalf("login redirected to %s", loc.Redacted())
	}
	got := loc.Query()
	for k, want := range map[string]string{"amazon_state": "amzn-state-xyz", "state": state, "redirect_uri": redirectURI, "version": "beta"} {
		if got.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, got.Get(k), want)
		}
	}

	res = s.callbackWith(state, s.consent(), stateCookie(state))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("callback: %d %s", res.StatusCode, res.Body)
	}
	if item := s.storedItem(amazon.RegionEU); item.AccountType != "vendor" {
		t.Errorf("account type %q, want vendor", item.AccountType)
	}
}

// TestLogInStepAppstoreFlowRelativeCallbackUsesReferrer: an Appstore-started flow has no state to
// say where the seller came from; with a relative amazon_callback_uri the Referer's Amazon origin
// (here Vendor Central DE) is the base, and anything else falls back to the default marketplace.
func TestLogInStepAppstoreFlowRelativeCallbackUsesReferrer(t *testing.T) {
	for referer, want := range map[string]string{
		"https://vendorcentral.amazon.de/apps/store/dp/x": "https://vendorcentral.amazon.de",
		"https://evil.example/apps/authorize/confirm":     "https://sellercentral.amazon.com",
		"": "https://sellercentral.amazon.com",
	} {
		t.Run(referer, func(t *testing.T) {
			s := newStack(t, withEnv("AMAZON_CONSENT_ORIGIN", ""))
			q := url.Values{
				"amazon_callback_uri": {"/apps/authorize/confirm/" + applicationID},
				"amazon_state":        {"amzn-state-appstore"},
				"selling_partner_id":  {sellerID},
			}
			e := event(t, "login", q.Encode())
			if referer != "" {
				h := maps.Clone(e.Headers)
				h["referer"] = referer
				e.Headers = h
			}
			res := invoke(t, s.login, e)
			if res.StatusCode != http.StatusFound {
				t.Fatalf("login: %d %s", res.StatusCode, res.Body)
			}
			remember(cookieValue(t, res))
			loc, _ := url.Parse(res.Headers["Location"])
			if got := loc.Scheme + "://" + loc.Host; got != want || loc.Path != "/apps/authorize/confirm/"+applicationID {
				t.Errorf("redirected to %s, want %s", loc.Redacted(), want)
			}
		})
	}
}

func TestLogInStepAppstoreFlowIssuesState(t *testing.T) {
	s := newStack(t)
	q := url.Values{
		"amazon_callback_uri": {"https://sellercentral.amazon.co.jp/apps/authorize/confirm/" + applicationID},
		"amazon_state":        {"amzn-state-appstore"},
		"selling_partner_id":  {sellerID},
	}
	res := invoke(t, s.login, event(t, "login", q.Encode()))
	if res.StatusCode != http.StatusFound {
		t.Fatalf("login: %d %s", res.StatusCode, res.Body)
	}
	state := cookieValue(t, res)
	remember(state)
	if state == "" {
		t.Fatal("Appstore-initiated flow must set a new state cookie")
	}
	loc, _ := url.Parse(res.Headers["Location"])
	if loc.Query().Get("state") != state || loc.Host != "sellercentral.amazon.co.jp" {
		t.Fatalf("redirect %s does not carry the new state to Amazon", loc.Redacted())
	}
	res = s.callbackWith(state, s.consent(), stateCookie(state))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("callback: %d %s", res.StatusCode, res.Body)
	}
	// The region comes from the Seller Central host the seller consented on, not the default.
	s.storedItem(amazon.RegionFE)
}

func TestLogInStepRefusesOpenRedirects(t *testing.T) {
	s := newStack(t)
	for name, uri := range map[string]string{
		"other host":          "https://evil.example/apps/authorize/confirm/x",
		"protocol relative":   "//evil.example/apps",
		"suffix trick":        "https://sellercentral.amazon.com.evil.example/apps",
		"userinfo":            "https://sellercentral.amazon.com@evil.example/apps",
		"backslash":           "/\\evil.example/apps",
		"javascript":          "javascript:alert(1)",
		"http downgrade":      "http://sellercentral.amazon.com/apps",
		"other port":          "https://sellercentral.amazon.com:8443/apps",
		"encoded slashes":     "%2F%2Fevil.example",
		"lookalike subdomain": "https://sellercentral.amazon.com.cn/apps",
	} {
		t.Run(name, func(t *testing.T) {
			q := url.Values{"amazon_callback_uri": {uri}, "amazon_state": {"s"}}
			res := invoke(t, s.login, jsonEvent(event(t, "login", q.Encode())))
			if res.StatusCode != http.StatusBadRequest || res.Headers["Location"] != "" {
				t.Fatalf("status %d, Location %q", res.StatusCode, res.Headers["Location"])
			}
			if code := problemCode(t, res); code != "untrusted_callback" && code != "invalid_request" {
				t.Errorf("problem %q", code)
			}
		})
	}
}

func TestStateReplayIsRefused(t *testing.T) {
	s := newStack(t)
	state, _ := s.startWebsite("")
	code := s.consent()
	if res := s.callbackWith(state, code, stateCookie(state)); res.StatusCode != http.StatusOK {
		t.Fatalf("first callback: %d", res.StatusCode)
	}
	res := s.callbackWith(state, code, stateCookie(state))
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.Body, "already used") {
		t.Fatalf("replay: %d %s", res.StatusCode, res.Body)
	}
	assertCookieCleared(t, res)
	if n := s.amazon.Stats().CodeExchanges; n != 1 {
		t.Errorf("replay reached LWA: %d code exchanges", n)
	}
}

func TestConcurrentCallbacksOneWins(t *testing.T) {
	s := newStack(t)
	state, _ := s.startWebsite("")
	code := s.consent()
	const n = 8
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { statuses[i] = s.callbackWith(state, code, stateCookie(state)).StatusCode })
	}
	wg.Wait()
	ok := 0
	for _, st := range statuses {
		switch st {
		case http.StatusOK:
			ok++
		case http.StatusBadRequest:
		default:
			t.Errorf("unexpected status %d", st)
		}
	}
	if ok != 1 {
		t.Fatalf("%d callbacks succeeded, want exactly 1 (statuses %v)", ok, statuses)
	}
	if got := s.amazon.Stats().CodeExchanges; got != 1 {
		t.Errorf("%d code exchanges, want 1", got)
	}
}

func TestCallbackFromAnotherBrowser(t *testing.T) {
	s := newStack(t)
	state, _ := s.startWebsite("")
	code := s.consent()

	res := s.callbackWith(state, code) // no cookie: a different browser
	if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Body, "another browser") {
		t.Fatalf("without cookie: %d %s", res.StatusCode, res.Body)
	}
	assertCookieCleared(t, res)
	other, _ := s.startWebsite("")
	if res := s.callbackWith(state, code, stateCookie(other)); res.StatusCode != http.StatusForbidden {
		t.Fatalf("with another state's cookie: %d", res.StatusCode)
	}
	if res := s.callbackWith(state, code, stateCookie(state), stateCookie(other)); res.StatusCode != http.StatusForbidden {
		t.Fatalf("with two state cookies: %d", res.StatusCode)
	}
	if n := s.amazon.Stats().CodeExchanges; n != 0 {
		t.Fatalf("a refused callback reached LWA")
	}
	// The refusals consumed nothing: the right browser still completes.
	if res := s.callbackWith(state, code, stateCookie(state)); res.StatusCode != http.StatusOK {
		t.Fatalf("right browser afterwards: %d %s", res.StatusCode, res.Body)
	}
}

func TestExpiredStateStillInTable(t *testing.T) {
	s := newStack(t)
	state, _ := s.startWebsite("")
	s.clock.Advance(15*time.Minute + time.Second) // TTL has not deleted it: moto never does, DynamoDB takes days
	res := s.callbackWith(state, s.consent(), stateCookie(state))
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.Body, "expired") {
		t.Fatalf("expired state: %d %s", res.StatusCode, res.Body)
	}
	if n := s.amazon.Stats().CodeExchanges; n != 0 {
		t.Fatalf("an expired state reached LWA")
	}
}

func TestStrictQueryParsing(t *testing.T) {
	s := newStack(t)
	state, _ := s.startWebsite("")
	code := s.consent()
	long := strings.Repeat("A", 600)
	for name, q := range map[string]string{
		"repeated state":       "state=" + state + "&state=" + state + "&selling_partner_id=" + sellerID + "&spapi_oauth_code=" + code,
		"repeated code":        callbackQuery(state, code) + "&spapi_oauth_code=" + code,
		"comma-joined code":    callbackQuery(state, code+","+code),
		"comma in seller":      "state=" + state + "&selling_partner_id=A1,A2&spapi_oauth_code=" + code,
		"oversized code":       callbackQuery(state, long),
		"oversized state":      callbackQuery(long, code),
		"oversized query":      callbackQuery(state, code) + "&x=" + strings.Repeat("y", 9000),
		"missing code":         "state=" + state + "&selling_partner_id=" + sellerID,
		"missing state":        "selling_partner_id=" + sellerID + "&spapi_oauth_code=" + code,
		"bad escape":           callbackQuery(state, code) + "&%zz=1",
		"seller id with space": "state=" + state + "&selling_partner_id=A1%20B&spapi_oauth_code=" + code,
	} {
		t.Run(name, func(t *testing.T) {
			res := invoke(t, s.callback, jsonEvent(event(t, "callback", q, stateCookie(state))))
			if res.StatusCode != http.StatusBadRequest || problemCode(t, res) != "invalid_request" {
				t.Fatalf("status %d body %s", res.StatusCode, res.Body)
			}
			assertCommonHeaders(t, res)
			assertCookieCleared(t, res)
		})
	}
	if n := s.amazon.Stats().CodeExchanges; n != 0 {
		t.Fatalf("bad input reached LWA")
	}
	if res := s.callbackWith(state, code, stateCookie(state)); res.StatusCode != http.StatusOK {
		t.Fatalf("bad input consumed the state: %d", res.StatusCode)
	}
}

func TestCodeRejectedByLWA(t *testing.T) {
	s := newStack(t)
	state, _ := s.startWebsite("")
	code := s.consent()
	s.clock.Advance(5*time.Minute + time.Second) // the code is dead, the state (15 min) is not
	res := invoke(t, s.callback, jsonEvent(event(t, "callback", callbackQuery(state, code), stateCookie(state))))
	if res.StatusCode != http.StatusBadRequest || problemCode(t, res) != "code_rejected" {
		t.Fatalf("%d %s", res.StatusCode, res.Body)
	}
	if n := s.amazon.Stats().TokenRequests; n != 1 {
		t.Errorf("invalid_grant for a code was retried: %d requests", n)
	}
}

func TestRotatedClientSecret(t *testing.T) {
	s := newStack(t)
	state, _ := s.startWebsite("")
	if res := s.callbackWith(state, s.consent(), stateCookie(state)); res.StatusCode != http.StatusOK {
		t.Fatalf("warm-up: %d", res.StatusCode)
	}
	// Amazon rotates the secret; the operator stores the new one; the old one stops working.
	const newSecret = "amzn1.oa2-cs.v1.second-secret-9876543210"
	remember(newSecret)
	s.amazon.RotateSecret(newSecret)
	s.amazon.RetireOldSecret()
	s.aws.PutSecret(t, s.secretID, secretJSON(clientID, newSecret))
	s.calls.Reset()

	state, _ = s.startWebsite("")
	res := s.callbackWith(state, s.consent(), stateCookie(state))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("after rotation: %d %s", res.StatusCode, res.Body)
	}
	if n := s.calls.Counts()["SecretsManager.GetSecretValue"]; n != 1 {
		t.Errorf("secret fetched %d times after invalid_client, want exactly 1", n)
	}
}

// TestLWAHangingPastTheLambdaDeadline: LWA never answers and the HTTP client would wait longer
// than the invocation has. The callback still answers, before Lambda's deadline, with the
// "Amazon did not answer" page and the cookie cleared; it does not run into the function's
// timeout (API Gateway's bare 5xx) or blame the app's credentials.
func TestLWAHangingPastTheLambdaDeadline(t *testing.T) {
	s := newStack(t)
	state, _ := s.startWebsite("")
	code := s.consent()
	rt := s.runtime(s.aws.Config)
	rt.LWAHTTPClient = &http.Client{Timeout: time.Minute}
	callback, err := callbackfn.New(rt)
	if err != nil {
		t.Fatal(err)
	}
	s.amazon.Inject(sandbox.Fault{Delay: 10 * time.Second})
	ctx, cancel := context.WithTimeout(t.Context(), httpapi.AnswerReserve+time.Second) // as Lambda sets it
	defer cancel()
	res, err := callback.Handle(ctx, jsonEvent(event(t, "callback", callbackQuery(state, code), stateCookie(state))))
	if err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Error("the callback answered after the invocation's deadline")
	}
	if res.StatusCode != http.StatusBadGateway || problemCode(t, res) != "amazon_unavailable" {
		t.Fatalf("%d %s", res.StatusCode, res.Body)
	}
	assertCookieCleared(t, res)
}

func TestLWAFailures(t *testing.T) {
	for name, fault := range map[string]sandbox.Fault{
		"500":     {Status: 500},
		"503":     {Status: 503},
		"429":     {Status: 429},
		"timeout": {Delay: time.Second},
		"reset":   {CloseConnection: true},
	} {
		t.Run(name, func(t *testing.T) {
			s := newStack(t)
			state, _ := s.startWebsite("")
			code := s.consent()
			for range 3 {
				s.amazon.Inject(fault)
			}
			res := invoke(t, s.callback, jsonEvent(event(t, "callback", callbackQuery(state, code), stateCookie(state))))
			if res.StatusCode != http.StatusBadGateway || problemCode(t, res) != "amazon_unavailable" {
				t.Fatalf("%d %s", res.StatusCode, res.Body)
			}
			assertCookieCleared(t, res)
		})
	}
	t.Run("one 500 is retried", func(t *testing.T) {
		s := newStack(t)
		state, _ := s.startWebsite("")
		s.amazon.Inject(sandbox.Fault{Status: 500})
		if res := s.callbackWith(state, s.consent(), stateCookie(state)); res.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", res.StatusCode, res.Body)
		}
	})
}

func TestDynamoDBUnavailable(t *testing.T) {
	s := newStack(t)
	state, _ := s.startWebsite("")
	code := s.consent()
	s.wire(s.aws.Unreachable())

	res := invoke(t, s.authorize, jsonEvent(event(t, "authorize", "")))
	if res.StatusCode != http.StatusServiceUnavailable || problemCode(t, res) != "storage_unavailable" {
		t.Fatalf("authorize: %d %s", res.StatusCode, res.Body)
	}
	if cookieValue(t, res) != "" || res.Headers["Location"] != "" {
		t.Error("authorize handed out a state it could not store")
	}
	res = invoke(t, s.callback, jsonEvent(event(t, "callback", callbackQuery(state, code), stateCookie(state))))
	if res.StatusCode != http.StatusServiceUnavailable || problemCode(t, res) != "storage_unavailable" {
		t.Fatalf("callback: %d %s", res.StatusCode, res.Body)
	}
	assertCookieCleared(t, res)
}

func TestSuccessURL(t *testing.T) {
	s := newStack(t, withEnv("SUCCESS_URL", "https://app.example.com/connected?from=spapi"))
	state, _ := s.startWebsite("marketplace=A1PA6795UKMFR9")
	res := s.callbackWith(state, s.consent(), stateCookie(state))
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("%d %s", res.StatusCode, res.Body)
	}
	loc, _ := url.Parse(res.Headers["Location"])
	q := loc.Query()
	if loc.Host != "app.example.com" || q.Get("from") != "spapi" || q.Get("selling_partner_id") != sellerID || q.Get("region") != "eu" {
		t.Errorf("Location %s", loc)
	}
	assertCookieCleared(t, res)
}

func TestEveryMarketplaceConsentURL(t *testing.T) {
	s := newStack(t, withEnv("APP_DRAFT", "false"))
	for _, m := range amazon.Marketplaces() {
		for _, by := range []string{m.Code, m.ID} {
			for _, acct := range []amazon.AccountType{amazon.Seller, amazon.Vendor} {
				q := url.Values{"marketplace": {by}, "account_type": {string(acct)}}.Encode()
				res := invoke(t, s.authorize, event(t, "authorize", q))
				want, err := m.Origin(acct)
				if err != nil {
					if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.Body, "ATVPDKIKX0DER") {
						t.Errorf("%s %s: %d, want 400 listing the marketplaces", by, acct, res.StatusCode)
					}
					continue
				}
				loc, _ := url.Parse(res.Headers["Location"])
				if res.StatusCode != http.StatusFound || loc.Scheme+"://"+loc.Host != want {
					t.Errorf("%s %s: %d %s, want origin %s", by, acct, res.StatusCode, loc.Redacted(), want)
				}
				if loc.Query().Has("version") {
					t.Errorf("%s: a published app must not send version=beta", by)
				}
				remember(cookieValue(t, res))
			}
		}
	}
}

func TestUnknownMarketplaceListsValidOnes(t *testing.T) {
	s := newStack(t)
	res := invoke(t, s.authorize, event(t, "authorize", "marketplace=XX"))
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.Body, "A1VC38T7YXB528") {
		t.Fatalf("%d %s", res.StatusCode, res.Body)
	}
	if len(res.Cookies) != 0 {
		t.Error("a refused request set a cookie")
	}
}

func TestStateEntropyUniquenessAndCookie(t *testing.T) {
	s := newStack(t)
	seen := map[string]bool{}
	for range 200 {
		res := invoke(t, s.authorize, event(t, "authorize", ""))
		var cookie string
		for _, c := range res.Cookies {
			cookie = c
		}
		for _, attr := range []string{"; Path=/", "; Secure", "; HttpOnly", "; SameSite=Lax", "; Max-Age=900"} {
			if !strings.Contains(cookie, attr) {
				t.Fatalf("cookie %q lacks %q", strings.SplitN(cookie, "=", 2)[0], attr)
			}
		}
		if strings.Contains(cookie, "Domain=") || !strings.HasPrefix(cookie, "__Host-spapi_oauth_state=") {
			t.Fatal("state cookie must be a host-only __Host- cookie")
		}
		state := cookieValue(t, res)
		remember(state)
		raw, err := base64.RawURLEncoding.DecodeString(state)
		if err != nil || len(raw) < 32 {
			t.Fatalf("state carries %d bytes, want at least 32", len(raw))
		}
		if seen[state] {
			t.Fatal("state repeated")
		}
		seen[state] = true
		loc, _ := url.Parse(res.Headers["Location"])
		if loc.Query().Get("state") != state {
			t.Fatal("cookie and consent URL carry different states")
		}
	}
	// The table holds hashes, never a state a reader could replay.
	dump := s.scan(s.tables.State)
	for state := range seen {
		if strings.Contains(dump, state) {
			t.Fatal("a raw state value is stored in the state table")
		}
	}
}

func TestJSONErrorsAndLandingPage(t *testing.T) {
	s := newStack(t)
	res := invoke(t, s.authorize, event(t, "landing", ""))
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `href="authorize?marketplace=US"`) {
		t.Fatalf("landing: %d", res.StatusCode)
	}
	for _, forbidden := range []string{"<script", "http://", "https://"} {
		if strings.Contains(res.Body, forbidden) {
			t.Errorf("landing page contains %q: no scripts or third-party resources", forbidden)
		}
	}
	assertCommonHeaders(t, res)
	if !strings.Contains(res.Headers["Content-Security-Policy"], "default-src 'none'") {
		t.Error("landing page lacks a strict CSP")
	}
}

// scan returns the whole table as text, to search it for values that must not be stored.
func (s *stack) scan(table string) string {
	s.t.Helper()
	out, err := s.aws.DynamoDB.Scan(s.t.Context(), &dynamodb.ScanInput{TableName: &table})
	if err != nil {
		s.t.Fatal(err)
	}
	var b strings.Builder
	for _, item := range out.Items {
		var m map[string]any
		if err := attributevalue.UnmarshalMap(item, &m); err != nil {
			s.t.Fatal(err)
		}
		fmt.Fprintln(&b, m)
	}
	return b.String()
}

func TestLogInStepNewStateWhenRegionOrCookieDiffers(t *testing.T) {
	s := newStack(t)
	for name, setup := range map[string]func() string{
		// The seller clicked US but signed in on Seller Central Europe: the authorization is EU's.
		"other region": func() string { st, _ := s.startWebsite("marketplace=US"); return st },
		// The cookie's state expired while the seller was at Amazon.
		"expired cookie": func() string {
			st, _ := s.startWebsite("marketplace=DE")
			s.clock.Advance(16 * time.Minute)
			return st
		},
	} {
		t.Run(name, func(t *testing.T) {
			old := setup()
			q := url.Values{
				"amazon_callback_uri": {"https://sellercentral-europe.amazon.com/apps/authorize/confirm/" + applicationID},
				"amazon_state":        {"amzn-state"},
			}
			res := invoke(t, s.login, event(t, "login", q.Encode(), stateCookie(old)))
			fresh := cookieValue(t, res)
			remember(fresh)
			if res.StatusCode != http.StatusFound || fresh == "" || fresh == old {
				t.Fatalf("status %d, new state issued: %v", res.StatusCode, fresh != "" && fresh != old)
			}
			if res := s.callbackWith(fresh, s.consent(), stateCookie(fresh)); res.StatusCode != http.StatusOK {
				t.Fatalf("callback %d", res.StatusCode)
			}
			s.storedItem(amazon.RegionEU)
		})
	}
}

func TestHybridAppStoresMWSAuthToken(t *testing.T) {
	s := newStack(t)
	state, _ := s.startWebsite("marketplace=UK")
	const mws = "amzn.mws.4ea38b7b-f563-7709-4bae-87aeaEXAMPLE"
	q := callbackQuery(state, s.consent()) + "&mws_auth_token=" + url.QueryEscape(mws)
	remember(mws)
	if res := invoke(t, s.callback, event(t, "callback", q, stateCookie(state))); res.StatusCode != http.StatusOK {
		t.Fatalf("callback: %d %s", res.StatusCode, res.Body)
	}
	if item := s.storedItem(amazon.RegionEU); item.MWSAuthToken != mws {
		t.Errorf("mws_auth_token not stored")
	}
}
