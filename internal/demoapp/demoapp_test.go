package demoapp_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/sellerauth/sellerauth/connect"
	"github.com/sellerauth/sellerauth/events"
	"github.com/sellerauth/sellerauth/internal/demoapp"
	"github.com/sellerauth/sellerauth/internal/sigv4auth"
)

// fakeAPI stands in for the backend API: it checks every request's signature as the IAM
// authorizer would, records what it was asked and answers what the test set.
type fakeAPI struct {
	mu       sync.Mutex
	requests []string // "METHOD path?query body"
	session  string   // the JSON of GET /connect/sessions/{id}
	conns    string   // the JSON of GET /connections
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	v := sigv4auth.Verifier{Region: "us-east-1", Lookup: func(id string) (string, sigv4auth.Identity, bool) {
		return "secret", sigv4auth.Identity{}, id == "AKIDTEST"
	}}
	if _, err := v.Verify(r, body); err != nil {
		http.Error(w, `{"message":"Forbidden"}`, http.StatusForbidden)
		return
	}
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+r.URL.RequestURI()+" "+string(body))
	session, conns := f.session, f.conns
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == "POST" && r.URL.Path == "/connect/sessions":
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"session_id":"cs_test","connect_url":"http://api.example/connect?session=SECRET","expires_at":"2030-01-01T00:00:00Z"}`)
	case r.Method == "GET" && r.URL.Path == "/connect/sessions/cs_test":
		io.WriteString(w, session)
	case r.Method == "GET" && r.URL.Path == "/connections":
		io.WriteString(w, conns)
	case r.Method == "DELETE":
		w.WriteHeader(http.StatusNoContent)
	default:
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":"session_not_found","message":"No session has that ID."}`)
	}
}

// set changes the answers; "" keeps one.
func (f *fakeAPI) set(session, conns string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if session != "" {
		f.session = session
	}
	if conns != "" {
		f.conns = conns
	}
}

func (f *fakeAPI) last() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[len(f.requests)-1]
}

func setup(t *testing.T) (*fakeAPI, *httptest.Server, *http.Client) {
	t.Helper()
	return setupWithEvents(t, nil)
}

// setupWithEvents is setup with the app's source of lifecycle events.
func setupWithEvents(t *testing.T, evs func() []events.Event) (*fakeAPI, *httptest.Server, *http.Client) {
	t.Helper()
	api := &fakeAPI{session: `{"session_id":"cs_test","end_user_id":"alice","status":"pending","expires_at":"2030-01-01T00:00:00Z"}`, conns: `[]`}
	apiSrv := httptest.NewServer(api)
	t.Cleanup(apiSrv.Close)
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")}
	app := httptest.NewUnstartedServer(nil)
	app.Config.Handler = demoapp.New(demoapp.Options{Client: connect.New(cfg, apiSrv.URL), URL: "http://" + app.Listener.Addr().String(), Events: evs}).Handler()
	app.Start()
	t.Cleanup(app.Close)
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return api, app, browser
}

func page(t *testing.T, c *http.Client, method, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	var resp *http.Response
	var err error
	if method == "POST" {
		resp, err = c.PostForm(u, form)
	} else {
		resp, err = c.Get(u)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestConnectCreatesASessionOfTheSignedInUser(t *testing.T) {
	api, app, browser := setup(t)
	if resp, _ := page(t, browser, "POST", app.URL+"/connect", url.Values{"marketplace": {"DE"}}); resp.Header.Get("Location") != "/" {
		t.Fatalf("Connect without signing in -> %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	page(t, browser, "POST", app.URL+"/sign-in", url.Values{"user": {"alice"}})
	resp, _ := page(t, browser, "POST", app.URL+"/connect", url.Values{"marketplace": {"DE"}, "account_type": {"vendor"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "http://api.example/connect?session=SECRET" {
		t.Fatalf("Connect -> %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	method, rest, _ := strings.Cut(api.last(), " ")
	path, body, _ := strings.Cut(rest, " ")
	var in map[string]string
	if err := json.Unmarshal([]byte(body), &in); err != nil {
		t.Fatal(err)
	}
	if method != "POST" || path != "/connect/sessions" || in["end_user_id"] != "alice" || in["marketplace"] != "DE" ||
		in["account_type"] != "vendor" || in["return_url"] != app.URL+demoapp.ReturnPath {
		t.Fatalf("the backend API got %s %s %v", method, path, in)
	}
	// The home page lists the session with its status, read from the API.
	if _, body := page(t, browser, "GET", app.URL+"/", nil); !strings.Contains(body, `id="session-cs_test"`) || strings.Contains(body, "SECRET") {
		t.Fatalf("home page after Connect:\n%s", body)
	}
}

// TestReturnReadsTheOutcomeFromTheAPI: the URL's status is not believed, and a session of another
// user is not shown.
func TestReturnReadsTheOutcomeFromTheAPI(t *testing.T) {
	api, app, browser := setup(t)
	page(t, browser, "POST", app.URL+"/sign-in", url.Values{"user": {"alice"}})
	api.set(`{"session_id":"cs_test","end_user_id":"alice","status":"failed","error":"connected_to_another_user","expires_at":"2030-01-01T00:00:00Z"}`, "")
	_, body := page(t, browser, "GET", app.URL+demoapp.ReturnPath+"?session_id=cs_test&status=connected", nil)
	if !strings.Contains(body, "The connection failed") || !strings.Contains(body, "connected_to_another_user") || strings.Contains(body, "Connected:") {
		t.Fatalf("return page:\n%s", body)
	}
	api.set(`{"session_id":"cs_test","end_user_id":"bob","status":"connected","selling_partner_id":"A1","region":"na","expires_at":"2030-01-01T00:00:00Z"}`, "")
	if _, body := page(t, browser, "GET", app.URL+demoapp.ReturnPath+"?session_id=cs_test&status=connected", nil); !strings.Contains(body, "belongs to another user") || strings.Contains(body, "A1") {
		t.Fatalf("return page for another user's session:\n%s", body)
	}
	api.set(`{"session_id":"cs_test","end_user_id":"alice","status":"connected","selling_partner_id":"A1SELLER","region":"na","account_type":"seller","expires_at":"2030-01-01T00:00:00Z"}`, "")
	if _, body := page(t, browser, "GET", app.URL+demoapp.ReturnPath+"?session_id=cs_test", nil); !strings.Contains(body, "Connected: Amazon account <b>A1SELLER</b>") {
		t.Fatalf("return page:\n%s", body)
	}
}

func TestConnectionsAreEscapedAndDisconnectIsGuarded(t *testing.T) {
	api, app, browser := setup(t)
	page(t, browser, "POST", app.URL+"/sign-in", url.Values{"user": {"bob"}})
	api.set("", `[{"selling_partner_id":"A1<script>","region":"eu","account_type":"seller","status":"active","authorized_at":"2026-01-01T00:00:00Z","reauthorize_by":"2027-01-01T00:00:00Z"}]`)
	_, body := page(t, browser, "GET", app.URL+"/", nil)
	if strings.Contains(body, "A1<script>") || !strings.Contains(body, "A1&lt;script&gt;") {
		t.Fatalf("home page does not escape the seller ID:\n%s", body)
	}
	if !strings.Contains(api.last(), "GET /connections?end_user_id=bob ") {
		t.Fatalf("the backend API got %s", api.last())
	}
	resp, _ := page(t, browser, "POST", app.URL+"/disconnect", url.Values{"selling_partner_id": {"A1SELLER"}, "region": {"eu"}})
	if resp.StatusCode != http.StatusSeeOther || api.last() != "DELETE /connections/A1SELLER/eu?end_user_id=bob " {
		t.Fatalf("Disconnect -> %d; the backend API got %q", resp.StatusCode, api.last())
	}
}

func TestAppstoreSignInCarriesAmazonsValues(t *testing.T) {
	api, app, browser := setup(t)
	q := url.Values{"amazon_callback_uri": {"https://sellercentral.amazon.com/apps/authorize/confirm/x"}, "amazon_state": {"st<>"}, "selling_partner_id": {"A1APPSTORE"}}
	_, body := page(t, browser, "GET", app.URL+demoapp.AppstoreSignInPath+"?"+q.Encode(), nil)
	if !strings.Contains(body, `id="appstore-sign-in-alice"`) || !strings.Contains(body, "A1APPSTORE") || !strings.Contains(body, `value="st&lt;&gt;"`) {
		t.Fatalf("sign-in page:\n%s", body)
	}
	resp, _ := page(t, browser, "POST", app.URL+demoapp.AppstoreSignInPath, url.Values{
		"user": {"alice"}, "amazon_callback_uri": q["amazon_callback_uri"], "amazon_state": q["amazon_state"],
	})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "http://api.example/connect?session=SECRET" {
		t.Fatalf("sign-in -> %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body, _ = strings.Cut(strings.SplitN(api.last(), " ", 2)[1], " ")
	var in map[string]string
	if err := json.Unmarshal([]byte(body), &in); err != nil {
		t.Fatal(err)
	}
	if in["end_user_id"] != "alice" || in["amazon_callback_uri"] != q.Get("amazon_callback_uri") || in["amazon_state"] != "st<>" {
		t.Fatalf("the backend API got %v", in)
	}
	// The user is signed in from now on.
	if _, body := page(t, browser, "GET", app.URL+"/", nil); !strings.Contains(body, `<b id="user">alice</b>`) {
		t.Fatalf("home page after the Appstore sign-in:\n%s", body)
	}
}

// TestHomePageListsTheUsersEvents: the signed-in user's events (their connections', and a refusal
// of another user's attempt on one of them), escaped; nobody else's.
func TestHomePageListsTheUsersEvents(t *testing.T) {
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	evs := []events.Event{
		{ID: "4", DetailType: events.ConnectionCreated, Time: at, Detail: events.Detail{EndUserID: "carol", SellingPartnerID: "A3CAROL", Region: "eu", Status: "active", Version: 1}},
		{ID: "3", DetailType: events.ConnectionDisconnected, Time: at, Detail: events.Detail{EndUserID: "alice", SellingPartnerID: "A1<b>", Region: "na", Status: "disconnected", Version: 2, Reason: "disconnected"}},
		{ID: "2", DetailType: events.ConnectionRefused, Time: at, Detail: events.Detail{EndUserID: "bob", OwnerEndUserID: "alice", SellingPartnerID: "A1<b>", Region: "na", Status: "refused"}},
		{ID: "1", DetailType: events.ConnectionCreated, Time: at, Detail: events.Detail{EndUserID: "alice", SellingPartnerID: "A1<b>", Region: "na", Status: "active", Version: 1}},
	}
	if got := demoapp.UserEvents(evs, "alice"); len(got) != 3 || got[0].ID != "3" || got[2].ID != "1" {
		t.Fatalf("alice's events: %v", got)
	}
	_, app, browser := setupWithEvents(t, func() []events.Event { return evs })
	page(t, browser, "POST", app.URL+"/sign-in", url.Values{"user": {"bob"}})
	_, body := page(t, browser, "GET", app.URL+"/", nil)
	if !strings.Contains(body, `id="events"`) || !strings.Contains(body, "Connection Refused") || !strings.Contains(body, "already connected to alice") ||
		strings.Contains(body, "A3CAROL") || strings.Contains(body, "Connection Disconnected") || strings.Contains(body, "A1<b>") || !strings.Contains(body, "A1&lt;b&gt;") {
		t.Fatalf("bob's home page:\n%s", body)
	}
	page(t, browser, "POST", app.URL+"/sign-in", url.Values{"user": {"alice"}})
	if _, body := page(t, browser, "GET", app.URL+"/", nil); strings.Count(body, `<tr class="event">`) != 3 || !strings.Contains(body, "bob tried to connect your account") {
		t.Fatalf("alice's home page:\n%s", body)
	}
	// Without a source of events, no events section.
	_, app, browser = setup(t)
	page(t, browser, "POST", app.URL+"/sign-in", url.Values{"user": {"alice"}})
	if _, body := page(t, browser, "GET", app.URL+"/", nil); strings.Contains(body, `id="events"`) {
		t.Fatalf("home page without events:\n%s", body)
	}
}
