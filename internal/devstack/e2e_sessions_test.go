package devstack_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/sellerauth/sellerauth/connect"
	"github.com/sellerauth/sellerauth/events"
	"github.com/sellerauth/sellerauth/internal/devstack"
	"github.com/sellerauth/sellerauth/internal/samtemplate"
)

// sessionFlow is the stack as make dev starts it, AnonymousAuthorizations=false as in production:
// every authorization starts in the demo app, whose backend creates a connect session through the
// IAM-authorized backend API. Alice connects seller X; Bob connecting the same X is refused (409,
// the session reads failed/connected_to_another_user, Alice's item is untouched to the byte);
// Alice connects X again (renewal); Disconnect on the demo page removes the item; a used connect
// link is refused (410); an Appstore-started authorization goes through the demo app's sign-in
// page (APP_SIGN_IN_URL) and a session to the seller's connection.
func sessionFlow(t *testing.T, buildDir string) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	logs := &teeLogs{to: testLogs{t}}
	envFile := filepath.Join(t.TempDir(), "dev", "env")
	st, err := devstack.Start(ctx, devstack.Config{
		Logs:     devstack.NewLogs(logs),
		BuildDir: buildDir,
		Prebuilt: true,
		EnvFile:  envFile,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	checkEnvFile(t, ctx, st, envFile)
	browser := newBrowser(t, ctx)
	statuses := watchDocuments(browser)
	shots := newShots(t)
	run := runner(t)
	api := connect.New(devstack.DevAWSConfig(), st.URL)

	// Production mode: no public landing page.
	resp, err := http.Get(st.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("GET / without anonymous authorizations -> %d, want 403", resp.StatusCode)
	}

	const shared = "A1E2ESHARED"
	signIn := func(user string) {
		t.Helper()
		run(browser, "sign in as "+user, chromedp.Navigate(st.DemoURL+"/"),
			chromedp.WaitVisible(`#sign-in-`+user+`, #sign-out`, chromedp.ByQuery))
		var who string
		_ = chromedp.Run(browser, chromedp.Evaluate(`(document.getElementById("user")||{}).textContent||""`, &who))
		if who == user {
			return
		}
		if who != "" {
			run(browser, "sign out", chromedp.Click(`#sign-out`), chromedp.WaitVisible(`#sign-in-`+user))
		}
		run(browser, "sign in as "+user, chromedp.Click(`#sign-in-`+user), chromedp.WaitVisible(`//b[@id="user"][.="`+user+`"]`))
	}
	// connectAs presses Connect Amazon and confirms seller spid on the sandbox's consent page.
	connectAs := func(user, spid string, then chromedp.Action) {
		t.Helper()
		signIn(user)
		run(browser, user+" connects "+spid, chromedp.Click(`#connect-amazon`), chromedp.WaitVisible(`#confirm`),
			chromedp.SetValue(`#selling_partner_id`, spid), chromedp.Click(`#confirm`), then)
	}
	connected := chromedp.WaitVisible(`//p[@id="outcome"][contains(., "Connected")]`)
	// eventText waits until the stack has received an event of detailType about seller spid
	// (the events function got the stream records, the rule delivered its event to the stack's
	// queue), then loads a page of the demo app with load and checks that it lists the event.
	eventText := func(what, detailType, spid string, ok func(events.Detail) bool, load chromedp.Action) string {
		t.Helper()
		waitEvent(t, st, what, detailType, spid, ok)
		var text, loc string
		run(browser, what+" listed", load, chromedp.WaitVisible(`#events`), chromedp.Text(`#events`, &text), chromedp.Location(&loc))
		if !strings.Contains(text, detailType) || !strings.Contains(text, spid) {
			t.Fatalf("%s: %s does not list the %q event of %s: %s", what, redact(loc), detailType, spid, text)
		}
		return text
	}

	// Alice connects X: back in the demo app, connected, and X is listed.
	connectAs("alice", shared, connected)
	var page string
	run(browser, "alice's connections", chromedp.Text(`#connections`, &page))
	if !strings.Contains(page, shared) {
		t.Fatalf("the demo app does not list %s after connecting: %s", shared, page)
	}
	before := rawItem(t, st, shared, "na")
	if s(before["end_user_id"]) != "alice" || s(before["status"]) != "active" || !strings.HasPrefix(s(before["refresh_token"]), "Atzr|") {
		t.Fatalf("item of %s: end_user_id %q, status %q", shared, s(before["end_user_id"]), s(before["status"]))
	}
	// The token table's stream -> the events function -> EventBridge -> the rule's queue: the
	// return page, loaded again (it reads the session's outcome again), lists the event.
	eventText("Alice's Connection Created", events.ConnectionCreated, shared, func(d events.Detail) bool {
		return d.EndUserID == "alice" && d.Region == "na" && d.Status == "active" && d.Version == 1
	}, chromedp.Reload())
	run(browser, "the outcome after the reload", connected)
	shots.take(browser, "09-demo-app-connected")

	// Bob connects the same seller: the seller sees 409, the session failed, Alice's item stays.
	connectAs("bob", shared, chromedp.WaitVisible(`//h1[not(contains(., "Authorize"))]`))
	run(browser, "the refusal page", chromedp.Text(`body`, &page))
	if got := statuses.last(st.URL + "/callback"); got != http.StatusConflict || !strings.Contains(page, "another user") {
		t.Fatalf("Bob's callback for %s answered %d: %s", shared, got, page)
	}
	shots.take(browser, "10-connected-to-another-user")
	if after := rawItem(t, st, shared, "na"); !reflect.DeepEqual(after, before) {
		t.Fatalf("Alice's item changed after Bob's refused callback: attributes %v differ", changed(before, after))
	}
	// The session table's stream: a refusal names both users.
	page = eventText("Bob's Connection Refused", events.ConnectionRefused, shared, func(d events.Detail) bool {
		return d.EndUserID == "bob" && d.OwnerEndUserID == "alice"
	}, chromedp.Navigate(st.DemoURL+"/"))
	if !strings.Contains(page, "already connected to alice") {
		t.Fatalf("Bob's events do not say who owns %s: %s", shared, page)
	}
	var sessionRow string
	run(browser, "bob's sessions", chromedp.WaitVisible(`#sessions`),
		chromedp.AttributeValue(`#sessions tr[id^="session-"]`, "id", &sessionRow, nil), chromedp.Text(`#sessions`, &page))
	bobSession, err := api.Session(t.Context(), strings.TrimPrefix(sessionRow, "session-"))
	if err != nil {
		t.Fatal(err)
	}
	if bobSession.Status != connect.StatusFailed || bobSession.Error != connect.SessionErrorConnectedToAnotherUser || bobSession.EndUserID != "bob" ||
		!strings.Contains(page, "connected_to_another_user") {
		t.Fatalf("Bob's session: status %q, error %q, end user %q; demo page: %s", bobSession.Status, bobSession.Error, bobSession.EndUserID, page)
	}
	if conns, err := api.Connections(t.Context(), "bob"); err != nil || len(conns) != 0 {
		t.Fatalf("Bob's connections: %v, %v", conns, err)
	}

	// Alice renews X.
	connectAs("alice", shared, connected)
	renewed := rawItem(t, st, shared, "na")
	if s(renewed["end_user_id"]) != "alice" || s(renewed["refresh_token"]) == s(before["refresh_token"]) || n(renewed["version"]) == n(before["version"]) {
		t.Fatalf("renewal: end_user_id %q, refresh token replaced %v, version %s -> %s", s(renewed["end_user_id"]),
			s(renewed["refresh_token"]) != s(before["refresh_token"]), n(before["version"]), n(renewed["version"]))
	}

	// Disconnect on the demo page removes the item.
	run(browser, "disconnect", chromedp.Click(`#disconnect-`+shared+`-na`),
		chromedp.WaitVisible(`//p[@id="outcome"][contains(., "Disconnected")]`), chromedp.Text(`#connections`, &page))
	if getItemMaybe(t, st, shared, "na") != nil || strings.Contains(page, shared) {
		t.Fatalf("after Disconnect the item of %s is still there, or listed: %s", shared, page)
	}
	eventText("Alice's Connection Disconnected", events.ConnectionDisconnected, shared, func(d events.Detail) bool {
		return d.EndUserID == "alice" && d.Status == "disconnected" && d.Reason == "disconnected"
	}, chromedp.Navigate(st.DemoURL+"/"))

	// A connect link works once: the backend (here the test, with the connect client) creates a
	// session, the browser completes it, and the same link again is refused with 410.
	created, err := api.CreateSession(t.Context(), connect.SessionInput{EndUserID: "alice", ReturnURL: st.DemoURL + "/return"})
	if err != nil {
		t.Fatal(err)
	}
	run(browser, "open a connect link", chromedp.Navigate(created.ConnectURL), chromedp.WaitVisible(`#confirm`),
		chromedp.SetValue(`#selling_partner_id`, "A1E2EONCE"), chromedp.Click(`#confirm`), connected)
	run(browser, "open the same link again", chromedp.Navigate(created.ConnectURL),
		// ByQuery: a plain search for "h1" would also find the page's CSS text, never visible.
		chromedp.WaitVisible(`h1`, chromedp.ByQuery), chromedp.Text(`body`, &page))
	if got := statuses.last(st.URL + "/connect"); got != http.StatusGone || !strings.Contains(page, "already used") {
		t.Fatalf("a used connect link answered %d: %s", got, page)
	}

	// Appstore-started: the sandbox's Appstore, our log-in URI, the demo app's sign-in page
	// (APP_SIGN_IN_URL), a session of the user signed in there, Amazon again, the callback.
	run(browser, "sandbox Appstore", chromedp.Navigate(st.SandboxURL+"/sandbox/appstore"), chromedp.WaitVisible(`#authorize-now`),
		chromedp.SetValue(`#selling_partner_id`, "A1E2EAPPSTORE"))
	shots.take(browser, "11-sandbox-appstore")
	run(browser, "Authorize now", chromedp.Click(`#authorize-now`), chromedp.WaitVisible(`#appstore-sign-in-bob`), chromedp.Text(`body`, &page))
	if !strings.Contains(page, "A1E2EAPPSTORE") {
		t.Fatalf("the demo app's sign-in page does not name the seller: %s", page)
	}
	shots.take(browser, "12-demo-appstore-sign-in")
	run(browser, "sign in at the demo app", chromedp.Click(`#appstore-sign-in-bob`), connected, chromedp.Text(`#connections`, &page))
	if it := getItem(t, st, "A1E2EAPPSTORE", "na"); it["end_user_id"] != "bob" || it["status"] != "active" || !strings.Contains(page, "A1E2EAPPSTORE") {
		t.Fatalf("Appstore-started item: end_user_id %q, status %q; Bob's connections: %s", it["end_user_id"], it["status"], page)
	}

	// No log line of any component holds a token, a connect token or a secret.
	connectToken := func() string { u, _ := url.Parse(created.ConnectURL); return u.Query().Get("session") }()
	appstore := rawItem(t, st, "A1E2EAPPSTORE", "na")
	secrets := map[string]string{"connect token": connectToken, "dev secret access key": devstack.DevSecretAccessKey, "LWA client secret": devstack.LWAClientSecret}
	for name, item := range map[string]map[string]types.AttributeValue{"first": before, "renewed": renewed, "Appstore": appstore} {
		secrets[name+" refresh token"], secrets[name+" access token"] = s(item["refresh_token"]), s(item["access_token"])
	}
	received, err := json.Marshal(st.Events())
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range secrets {
		if v == "" || logs.contains(v) {
			t.Errorf("the stack's logs hold the %s (or it is empty)", name)
		}
		if v != "" && strings.Contains(string(received), v) {
			t.Errorf("an event holds the %s", name)
		}
	}

	// moto's log of the requests it answered is left out (make dev without VERBOSE).
	if line := logs.find(motoAnswered); line != "" {
		t.Errorf("the stack's log holds moto's request log: %s", line)
	}

	// The status page names each connection's app user, never a token.
	run(browser, "status page", chromedp.Navigate(st.URL+"/_dev/"), chromedp.WaitVisible(`#sellers`), chromedp.Text(`#sellers`, &page))
	shots.take(browser, "13-dev-status-app-users")
	if !strings.Contains(page, "A1E2EAPPSTORE\tbob") || !strings.Contains(page, "A1E2EONCE\talice") || strings.Contains(page, "Atza|") || strings.Contains(page, "Atzr|") {
		t.Fatalf("status page: %s", page)
	}
	// ... and the events the stack received, Bob's Appstore connection among them.
	waitEvent(t, st, "Bob's Appstore connection", events.ConnectionCreated, "A1E2EAPPSTORE", func(d events.Detail) bool { return d.EndUserID == "bob" })
	run(browser, "status page events", chromedp.Navigate(st.URL+"/_dev/"), chromedp.WaitVisible(`#events`), chromedp.Text(`#events`, &page),
		chromedp.Evaluate(`document.getElementById("events").scrollIntoView()`, nil))
	shots.take(browser, "14-dev-status-events")
	for _, want := range []string{events.ConnectionCreated + "\talice\t" + shared, events.ConnectionRefused + "\tbob\t" + shared, "owner alice",
		events.ConnectionDisconnected + "\talice\t" + shared, events.ConnectionCreated + "\tbob\tA1E2EAPPSTORE"} {
		if !strings.Contains(page, want) {
			t.Fatalf("the status page's events lack %q: %s", want, page)
		}
	}
	if strings.Contains(page, "Atza|") || strings.Contains(page, "Atzr|") {
		t.Fatalf("the status page's events show a token")
	}
}

// waitEvent waits until the stack has received an event of detailType about seller spid for
// which ok holds: it polls the stack's in-memory list, for at most a minute (a poll of the
// stream, an invocation and a delivery take about a second).
func waitEvent(t *testing.T, st *devstack.Stack, what, detailType, spid string, ok func(events.Detail) bool) events.Event {
	t.Helper()
	started := time.Now()
	for {
		evs := st.Events()
		for _, e := range evs {
			if e.DetailType == detailType && e.Source == events.Source && e.Detail.SellingPartnerID == spid && ok(e.Detail) {
				t.Logf("%s: the %q event arrived %s after the wait began", what, detailType, time.Since(started).Round(time.Millisecond))
				return e
			}
		}
		if time.Since(started) > time.Minute {
			var got []string
			for _, e := range evs {
				got = append(got, e.DetailType+" "+e.Detail.SellingPartnerID+" "+e.Detail.EndUserID)
			}
			t.Fatalf("%s: no %q event of %s within a minute; the stack received %q", what, detailType, spid, got)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// runner returns run: one step of browser actions within 20 seconds, fatal with the page's
// location on failure.
func runner(t *testing.T) func(c context.Context, what string, actions ...chromedp.Action) {
	return func(c context.Context, what string, actions ...chromedp.Action) {
		t.Helper()
		sc, cancel := context.WithTimeout(c, 20*time.Second)
		defer cancel()
		if err := chromedp.Run(sc, actions...); err != nil {
			var loc string
			_ = chromedp.Run(c, chromedp.Location(&loc))
			t.Fatalf("%s: %v (at %s)", what, err, redact(loc))
		}
	}
}

// redact cuts the query off a URL: a connect link or a callback carries secrets in it.
func redact(u string) string {
	base, _, _ := strings.Cut(u, "?")
	return base
}

// documents records the HTTP status of each page the browser loaded, by path (a page answered
// with an error is a document like any other: the status is only visible on the wire).
type documents struct {
	mu     sync.Mutex
	byPage map[string][]int64 // host + path -> statuses
}

func watchDocuments(browser context.Context) *documents {
	d := &documents{byPage: map[string][]int64{}}
	chromedp.ListenTarget(browser, func(ev any) {
		e, ok := ev.(*network.EventResponseReceived)
		if !ok || e.Type != network.ResourceTypeDocument {
			return
		}
		u, err := url.Parse(e.Response.URL)
		if err != nil {
			return
		}
		d.mu.Lock()
		d.byPage[u.Host+u.Path] = append(d.byPage[u.Host+u.Path], e.Response.Status)
		d.mu.Unlock()
	})
	return d
}

// last is the status of the last page loaded at page (a URL without query), or 0.
func (d *documents) last(page string) int64 {
	u, err := url.Parse(page)
	if err != nil {
		return 0
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if s := d.byPage[u.Host+u.Path]; len(s) > 0 {
		return s[len(s)-1]
	}
	return 0
}

// rawItem reads a token item as DynamoDB stores it, every attribute and type, for a comparison
// to the byte. Its values are never logged.
func rawItem(t *testing.T, st *devstack.Stack, spid, region string) map[string]types.AttributeValue {
	t.Helper()
	out, err := dynamodb.NewFromConfig(st.AWS).GetItem(t.Context(), &dynamodb.GetItemInput{
		TableName:      aws.String(st.TokenTable),
		ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{
			"selling_partner_id": &types.AttributeValueMemberS{Value: spid},
			"region":             &types.AttributeValueMemberS{Value: region},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.Item == nil {
		t.Fatalf("no token item for %s/%s", spid, region)
	}
	return out.Item
}

// changed names the attributes that differ between two items, never their values.
func changed(a, b map[string]types.AttributeValue) []string {
	var names []string
	for k, v := range a {
		if !reflect.DeepEqual(v, b[k]) {
			names = append(names, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	return names
}

func s(v types.AttributeValue) string {
	if x, ok := v.(*types.AttributeValueMemberS); ok {
		return x.Value
	}
	return ""
}

func n(v types.AttributeValue) string {
	if x, ok := v.(*types.AttributeValueMemberN); ok {
		return x.Value
	}
	return ""
}

// teeLogs keeps a copy of the stack's lines, to search them for secrets.
type teeLogs struct {
	to  testLogs
	mu  sync.Mutex
	all strings.Builder
}

func (l *teeLogs) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.all.Write(p)
	l.mu.Unlock()
	return l.to.Write(p)
}

// motoAnswered is a line of moto's request log for a request it answered (below 500).
var motoAnswered = regexp.MustCompile(`(?m)^moto +\| \S+ - - \[[^\]]*\] "[^"]*" [1-4]\d\d .*$`)

// find returns the first line re matches, or "".
func (l *teeLogs) find(re *regexp.Regexp) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return re.FindString(l.all.String())
}

func (l *teeLogs) contains(v string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Contains(l.all.String(), v)
}

// screenshotDir resolves a relative E2E_SCREENSHOTS against the repository root, not the package
// directory go test runs in: E2E_SCREENSHOTS=docs/screenshots means the images of README.md and docs/local.md.
func screenshotDir(t *testing.T, d string) string {
	if filepath.IsAbs(d) {
		return d
	}
	tpl, err := samtemplate.Find()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(filepath.Dir(tpl), d)
}
