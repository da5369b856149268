package sandbox_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/sellerauth/sellerauth/internal/sandbox"
)

const testAppID = "amzn1.sp.solution.test-app"

func consentServer(t *testing.T, draft bool, loginURI string) (*sandbox.Sandbox, *httptest.Server) {
	t.Helper()
	s := sandbox.New(sandbox.Options{ClientID: "id", ClientSecret: "secret", App: sandbox.App{
		Name: "Test app", ApplicationID: testAppID, Draft: draft,
		RedirectURIs: []string{"https://app.example/callback"}, LoginURI: loginURI,
	}})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return s, srv
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func get(t *testing.T, u string) (int, string, *http.Response) {
	t.Helper()
	resp, err := noRedirect.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp
}

func TestConsentPageErrors(t *testing.T) {
	_, srv := consentServer(t, true, "")
	for _, tc := range []struct{ name, query, want string }{
		{"draft without version=beta", "application_id=" + testAppID + "&state=s", "MD1000"},
		{"LWA client ID as application ID", "application_id=amzn1.application-oa2-client.x&state=s&version=beta", "MD1000"},
		{"unregistered redirect_uri", "application_id=" + testAppID + "&state=s&version=beta&redirect_uri=" + url.QueryEscape("https://evil.example/cb"), "MD5101"},
		{"fragment in redirect_uri", "application_id=" + testAppID + "&state=s&version=beta&redirect_uri=" + url.QueryEscape("https://app.example/callback#x"), "MD5110"},
		{"valid", "application_id=" + testAppID + "&state=s&version=beta", `id="confirm"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, body, _ := get(t, srv.URL+sandbox.ConsentPath+"?"+tc.query)
			if !strings.Contains(body, tc.want) {
				t.Fatalf("page lacks %q:\n%s", tc.want, body)
			}
		})
	}
}

func decide(t *testing.T, srv *httptest.Server, query, decision string) *http.Response {
	t.Helper()
	resp, err := noRedirect.PostForm(srv.URL+sandbox.ConsentPath, url.Values{
		"query": {query}, "decision": {decision}, "central": {"seller"}, "marketplace": {"US"}, "selling_partner_id": {"A1TEST"},
	})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestConsentFlows(t *testing.T) {
	query := "application_id=" + testAppID + "&state=st8&version=beta"
	t.Run("log-in URI round trip", func(t *testing.T) {
		_, srv := consentServer(t, true, "https://app.example/login")
		resp := decide(t, srv, query, "confirm")
		loc, _ := url.Parse(resp.Header.Get("Location"))
		q := loc.Query()
		if resp.StatusCode != http.StatusFound || loc.Path != "/login" || q.Get("amazon_state") == "" || q.Get("version") != "beta" || q.Get("selling_partner_id") != "A1TEST" {
			t.Fatalf("Confirm -> %d %s", resp.StatusCode, loc)
		}
		back := q.Get("amazon_callback_uri") + "?" + url.Values{"amazon_state": {q.Get("amazon_state")}, "state": {"st8"}, "version": {"beta"}}.Encode()
		status, _, r := get(t, back)
		cb, _ := url.Parse(r.Header.Get("Location"))
		if status != http.StatusFound || cb.Host != "app.example" || cb.Query().Get("state") != "st8" || !strings.HasPrefix(cb.Query().Get("spapi_oauth_code"), "AN") {
			t.Fatalf("amazon_callback_uri -> %d %s", status, cb)
		}
		if status, _, _ := get(t, back); status != http.StatusBadRequest {
			t.Fatalf("second use of amazon_callback_uri -> %d, want 400", status)
		}
	})
	t.Run("older direct flow", func(t *testing.T) {
		s, srv := consentServer(t, true, "https://app.example/login")
		s.SetDirectFlow(true)
		resp := decide(t, srv, query, "confirm")
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if loc.Path != "/callback" || loc.Query().Get("state") != "st8" || loc.Query().Get("spapi_oauth_code") == "" {
			t.Fatalf("Confirm -> %s", loc)
		}
	})
	t.Run("cancel goes nowhere", func(t *testing.T) {
		_, srv := consentServer(t, true, "")
		if resp := decide(t, srv, query, "cancel"); resp.StatusCode != http.StatusOK || resp.Header.Get("Location") != "" {
			t.Fatalf("Cancel -> %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
}

// TestAppstoreInitiatedFlow: Authorize now on the Appstore page sends the browser to the app's
// log-in URI with Amazon's parameters and no state of the app's; the app's own state, brought
// back to amazon_callback_uri, ends at the redirect URI with a code.
func TestAppstoreInitiatedFlow(t *testing.T) {
	s, srv := consentServer(t, true, "https://app.example/login?src=sp")
	if status, body, _ := get(t, srv.URL+sandbox.AppstorePath); status != http.StatusOK || !strings.Contains(body, `id="authorize-now"`) {
		t.Fatalf("Appstore page: %d\n%s", status, body)
	}
	resp, err := noRedirect.PostForm(srv.URL+sandbox.AppstorePath, url.Values{
		"central": {"vendor"}, "marketplace": {"DE"}, "selling_partner_id": {"A2APPSTORE"},
	})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	q := loc.Query()
	if resp.StatusCode != http.StatusFound || loc.Host != "app.example" || loc.Path != "/login" || q.Get("src") != "sp" ||
		q.Get("amazon_state") == "" || q.Get("selling_partner_id") != "A2APPSTORE" || q.Get("version") != "beta" || q.Has("state") {
		t.Fatalf("Authorize now -> %d %s", resp.StatusCode, loc)
	}
	callback := q.Get("amazon_callback_uri")
	if !strings.HasPrefix(callback, srv.URL+sandbox.ConfirmPathPrefix) {
		t.Fatalf("amazon_callback_uri %q is not the sandbox's confirm URL", callback)
	}
	if a := s.Authorizations(); len(a) != 1 || a[0].SellingPartnerID != "A2APPSTORE" || a[0].AccountType != "vendor" || a[0].Marketplace != "DE" {
		t.Fatalf("authorizations %+v", a)
	}
	// Without the app's state Amazon goes no further.
	if status, body, _ := get(t, callback+"?"+url.Values{"amazon_state": {q.Get("amazon_state")}, "version": {"beta"}}.Encode()); status != http.StatusBadRequest || !strings.Contains(body, "MD1000") {
		t.Fatalf("amazon_callback_uri without state -> %d", status)
	}

	// Again, this time with the app's state: the code goes to the first registered redirect URI.
	resp, err = noRedirect.PostForm(srv.URL+sandbox.AppstorePath, url.Values{"selling_partner_id": {"A1APPSTORE"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ = url.Parse(resp.Header.Get("Location"))
	q = loc.Query()
	back := q.Get("amazon_callback_uri") + "?" + url.Values{"amazon_state": {q.Get("amazon_state")}, "state": {"app-state"}, "version": {"beta"}}.Encode()
	status, _, r := get(t, back)
	cb, _ := url.Parse(r.Header.Get("Location"))
	if status != http.StatusFound || cb.String() == "" || cb.Scheme+"://"+cb.Host+cb.Path != "https://app.example/callback" ||
		cb.Query().Get("state") != "app-state" || cb.Query().Get("selling_partner_id") != "A1APPSTORE" || !strings.HasPrefix(cb.Query().Get("spapi_oauth_code"), "AN") {
		t.Fatalf("amazon_callback_uri -> %d %s", status, cb.Redacted())
	}
}

func TestAppstoreNeedsALogInURI(t *testing.T) {
	_, srv := consentServer(t, true, "")
	if _, body, _ := get(t, srv.URL+sandbox.AppstorePath); !strings.Contains(body, "MD1000") || strings.Contains(body, `id="authorize-now"`) {
		t.Fatalf("Appstore page of an app without a log-in URI:\n%s", body)
	}
}
