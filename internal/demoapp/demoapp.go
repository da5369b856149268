// Package demoapp is "your app" in the local stack (make dev): a small web app with its own
// users and a backend that connects their Amazon seller accounts through the stack's backend API
// with the connect client, the way a real app integrates. Its pages are rendered on the server,
// need no JavaScript, and pass every value through html.EscapeString.
//
// A visitor signs in as one of a fixed set of users (a cookie naming the user: there are no
// passwords, it is a demo) and presses Connect Amazon: the backend creates a connect session for
// that user (POST /connect/sessions, return_url = /return) and sends the browser to its connect
// URL. When the seller comes back, /return reads the session's outcome from the API (never from
// the URL's status). The home page lists the user's connections (GET /connections) with a
// Disconnect button (DELETE), and the user's recent connect sessions with their status, which is
// where an outcome shows that never came back to /return (a seller refused with
// connected_to_another_user stays on the stack's error page). /appstore-sign-in is the app's
// sign-in page for an authorization the seller started in the Selling Partner Appstore
// (APP_SIGN_IN_URL): the visitor signs in and the backend creates a session that carries
// amazon_callback_uri and amazon_state. With Options.Events (the local stack's EventBridge rule
// and queue) the home page also lists the user's recent lifecycle events.
//
// It never logs or shows a connect URL: it holds the secret that opens the session.
package demoapp

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sellerauth/sellerauth/connect"
	"github.com/sellerauth/sellerauth/events"
	"github.com/sellerauth/sellerauth/internal/amazon"
)

// Paths of the demo app.
const (
	// ReturnPath is the return_url of every session the demo app creates.
	ReturnPath = "/return"
	// AppstoreSignInPath is the app's sign-in page for Appstore-started authorizations: the
	// stack's APP_SIGN_IN_URL.
	AppstoreSignInPath = "/appstore-sign-in"
)

// userCookie names the signed-in user. A real app has a real session; this one trusts the name,
// which is all a demo of the connect API needs.
const userCookie = "demo_user"

// recentSessions is how many connect sessions per user the home page shows.
const recentSessions = 5

// Options configure the demo app.
type Options struct {
	// Client calls the stack's backend API, signed with credentials the API's IAM authorizer
	// accepts.
	Client *connect.Client
	// URL is the demo app's own origin, such as http://127.0.0.1:3002; sessions return to
	// URL + ReturnPath, which ALLOWED_RETURN_URLS must admit.
	URL string
	// Users are the app's users one can sign in as, each a valid end_user_id; nil means alice
	// and bob.
	Users []string
	// Logf, if set, receives the failures of calls to the backend API (never a connect URL).
	Logf func(format string, args ...any)
	// Events, if set, returns the lifecycle events (source sellerauth) the app received
	// recently, newest first; the home page lists those about the signed-in user. In the local
	// stack they come from its EventBridge rule's queue, as a real app would consume them.
	Events func() []events.Event
}

// App is the demo app. It is safe for concurrent use.
type App struct {
	client *connect.Client
	url    string
	users  []string
	logf   func(format string, args ...any)
	events func() []events.Event

	mu sync.Mutex
	// sessions are the IDs of each user's recent connect sessions, newest first: the app's own
	// record of what it started, as a real backend would keep it.
	sessions map[string][]string
}

// New returns the demo app.
func New(o Options) *App {
	a := &App{client: o.Client, url: strings.TrimSuffix(o.URL, "/"), users: o.Users, logf: o.Logf, events: o.Events, sessions: map[string][]string{}}
	if len(a.users) == 0 {
		a.users = []string{"alice", "bob"}
	}
	if a.logf == nil {
		a.logf = func(string, ...any) {}
	}
	return a
}

// Handler serves the demo app's pages.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		banner := ""
		if q := r.URL.Query(); q.Get("disconnected") != "" {
			banner = fmt.Sprintf(`<p class="ok" id="outcome">Disconnected Amazon account <b>%s</b> (%s).</p>`,
				html.EscapeString(q.Get("disconnected")), html.EscapeString(q.Get("region")))
		}
		a.home(w, r, banner)
	})
	mux.HandleFunc("POST /sign-in", a.signIn)
	mux.HandleFunc("POST /sign-out", a.signOut)
	mux.HandleFunc("POST /connect", a.connect)
	mux.HandleFunc("GET "+ReturnPath, a.back)
	mux.HandleFunc("POST /disconnect", a.disconnect)
	mux.HandleFunc("GET "+AppstoreSignInPath, a.appstoreSignInPage)
	mux.HandleFunc("POST "+AppstoreSignInPath, a.appstoreSignIn)
	return mux
}

// user returns the signed-in user, or "".
func (a *App) user(r *http.Request) string {
	c, err := r.Cookie(userCookie)
	if err != nil || !slices.Contains(a.users, c.Value) {
		return ""
	}
	return c.Value
}

func (a *App) setUser(w http.ResponseWriter, user string) {
	http.SetCookie(w, &http.Cookie{Name: userCookie, Value: user, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

func (a *App) remember(user, sessionID string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	list := append([]string{sessionID}, a.sessions[user]...)
	a.sessions[user] = list[:min(len(list), recentSessions)]
}

func (a *App) recent(user string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.sessions[user])
}

func (a *App) signIn(w http.ResponseWriter, r *http.Request) {
	user := r.PostFormValue("user")
	if !slices.Contains(a.users, user) {
		a.page(w, http.StatusBadRequest, "Sign in", `<p class="err">There is no such user.</p><p><a href="/">Back</a></p>`)
		return
	}
	a.setUser(w, user)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (a *App) signOut(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: userCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// connect is the Connect Amazon button: the app's backend creates a session for the signed-in
// user and sends the browser to its connect URL.
func (a *App) connect(w http.ResponseWriter, r *http.Request) {
	user := a.user(r)
	if user == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	a.startSession(w, r, user, connect.SessionInput{
		EndUserID:   user,
		Marketplace: r.PostFormValue("marketplace"),
		AccountType: r.PostFormValue("account_type"),
	})
}

// startSession creates the session and redirects the browser to its connect URL, which is
// never shown, logged or stored: it opens the session once, in the browser that follows it.
func (a *App) startSession(w http.ResponseWriter, r *http.Request, user string, in connect.SessionInput) {
	in.ReturnURL = a.url + ReturnPath
	s, err := a.client.CreateSession(r.Context(), in)
	if err != nil {
		a.apiFailure(w, "Could not start the connection", err)
		return
	}
	a.remember(user, s.SessionID)
	http.Redirect(w, r, s.ConnectURL, http.StatusSeeOther)
}

// back is the session's return_url: the API sends the browser here with session_id (and
// status=connected, which is not trusted: anyone can type a URL). The outcome is read from the
// API, and only for a session of the signed-in user.
func (a *App) back(w http.ResponseWriter, r *http.Request) {
	user := a.user(r)
	id := r.URL.Query().Get("session_id")
	if user == "" || id == "" {
		a.home(w, r, `<p class="err" id="outcome">Sign in to see how your connection went.</p>`)
		return
	}
	s, err := a.client.Session(r.Context(), id)
	switch {
	case errors.Is(err, connect.ErrNotFound):
		a.home(w, r, `<p class="err" id="outcome">There is no such connect session.</p>`)
		return
	case err != nil:
		a.apiFailure(w, "Could not read the connect session", err)
		return
	case s.EndUserID != user:
		a.home(w, r, `<p class="err" id="outcome">That connect session belongs to another user of this app.</p>`)
		return
	}
	a.home(w, r, outcome(s))
}

// outcome describes a session's result for its user.
func outcome(s connect.SessionStatus) string {
	esc := html.EscapeString
	switch s.Status {
	case connect.StatusConnected:
		return fmt.Sprintf(`<p class="ok" id="outcome">Connected: Amazon account <b>%s</b> (%s, %s) is now connected to your account.</p>`,
			esc(s.SellingPartnerID), esc(s.Region), esc(s.AccountType))
	case connect.StatusFailed:
		return `<p class="err" id="outcome">The connection failed: ` + esc(failure(s.Error)) + `</p>`
	case connect.StatusExpired:
		return `<p class="err" id="outcome">The connect link expired before the authorization finished. Connect again.</p>`
	default:
		return `<p id="outcome">The authorization is still under way (` + esc(string(s.Status)) + `).</p>`
	}
}

// failure explains a session's error code; the codes are the API's stable ones.
func failure(code string) string {
	switch code {
	case connect.SessionErrorConnectedToAnotherUser:
		return "this Amazon account is already connected to another user of this app (connected_to_another_user)."
	case connect.SessionErrorCodeRejected:
		return "Amazon did not accept the authorization, probably because it took too long (code_rejected). Connect again."
	case connect.SessionErrorAmazonUnavailable:
		return "Amazon did not answer (amazon_unavailable). Try again in a few minutes."
	case connect.SessionErrorAppMisconfigured:
		return "Amazon refused the app's credentials (app_misconfigured): the operator must act."
	case connect.SessionErrorSellerMismatch:
		return "the seller who authorized is not the one this connection was started for (selling_partner_mismatch)."
	default:
		return code
	}
}

func (a *App) disconnect(w http.ResponseWriter, r *http.Request) {
	user := a.user(r)
	if user == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	spid, region := r.PostFormValue("selling_partner_id"), r.PostFormValue("region")
	// WithEndUser: the API removes the connection only if it is this user's.
	if err := a.client.Disconnect(r.Context(), spid, region, connect.WithEndUser(user)); err != nil {
		a.apiFailure(w, "Could not disconnect", err)
		return
	}
	// Back to the home page with a GET, so that reloading it does not disconnect again.
	http.Redirect(w, r, "/?"+url.Values{"disconnected": {spid}, "region": {region}}.Encode(), http.StatusSeeOther)
}

// appstoreSignInPage is APP_SIGN_IN_URL: a seller who started in the Appstore arrives here
// (through the stack's log-in URI) with Amazon's amazon_callback_uri and amazon_state, signs in,
// and goes on.
func (a *App) appstoreSignInPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	callback, state := q.Get("amazon_callback_uri"), q.Get("amazon_state")
	if callback == "" || state == "" {
		a.page(w, http.StatusBadRequest, "Sign in", `<p class="err">This sign-in link is incomplete: start again from the Appstore.</p>`)
		return
	}
	esc := html.EscapeString
	var b strings.Builder
	b.WriteString(`<h1>Sign in to connect your Amazon account</h1>`)
	if spid := q.Get("selling_partner_id"); spid != "" {
		fmt.Fprintf(&b, `<p>You are authorizing this app from the Selling Partner Appstore for Amazon account <b id="appstore-seller">%s</b>. Sign in to choose which user of the app it is connected to.</p>`, esc(spid))
	} else {
		b.WriteString(`<p>You are authorizing this app from the Selling Partner Appstore. Sign in to choose which user of the app it is connected to.</p>`)
	}
	b.WriteString(`<form method="post" action="` + AppstoreSignInPath + `">`)
	fmt.Fprintf(&b, `<input type="hidden" name="amazon_callback_uri" value="%s"><input type="hidden" name="amazon_state" value="%s">`, esc(callback), esc(state))
	for _, u := range a.users {
		fmt.Fprintf(&b, `<button class="primary" name="user" value="%s" id="appstore-sign-in-%s">Sign in as %s</button> `, esc(u), esc(u), esc(u))
	}
	b.WriteString(`</form>`)
	a.page(w, http.StatusOK, "Sign in", b.String())
}

// appstoreSignIn signs the visitor in and resumes the Appstore-started authorization in a
// session of that user: the API sends the browser back to amazon_callback_uri.
func (a *App) appstoreSignIn(w http.ResponseWriter, r *http.Request) {
	user := r.PostFormValue("user")
	if !slices.Contains(a.users, user) {
		a.page(w, http.StatusBadRequest, "Sign in", `<p class="err">There is no such user.</p>`)
		return
	}
	a.setUser(w, user)
	a.startSession(w, r, user, connect.SessionInput{
		EndUserID:         user,
		AmazonCallbackURI: r.PostFormValue("amazon_callback_uri"),
		AmazonState:       r.PostFormValue("amazon_state"),
	})
}

// home is the app's page: the sign-in form, or the signed-in user's connections, recent
// sessions and the Connect Amazon button, after banner (already escaped HTML).
func (a *App) home(w http.ResponseWriter, r *http.Request, banner string) {
	esc := html.EscapeString
	user := a.user(r)
	var b strings.Builder
	b.WriteString(banner)
	if user == "" {
		b.WriteString(`<h1>Sign in</h1><p>This is your app. Sign in as one of its users:</p><form method="post" action="/sign-in">`)
		for _, u := range a.users {
			fmt.Fprintf(&b, `<button class="primary" name="user" value="%s" id="sign-in-%s">Sign in as %s</button> `, esc(u), esc(u), esc(u))
		}
		b.WriteString(`</form>`)
		a.page(w, http.StatusOK, "Demo app", b.String())
		return
	}
	fmt.Fprintf(&b, `<div class="who">Signed in as <b id="user">%s</b> <form method="post" action="/sign-out"><button id="sign-out">Sign out</button></form></div>`, esc(user))

	b.WriteString(`<h2>Amazon accounts</h2>`)
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	conns, err := a.client.Connections(ctx, user)
	if err != nil {
		a.logf("GET /connections: %v", err)
		fmt.Fprintf(&b, `<p class="err">Could not list the connections: %s</p>`, esc(err.Error()))
	}
	b.WriteString(`<table id="connections"><tr><th>Selling partner</th><th>Region</th><th>Account</th><th>Status</th><th>Authorized</th><th>Re-authorize by</th><th></th></tr>`)
	for _, c := range conns {
		fmt.Fprintf(&b, `<tr><td>%s</td><td>%s</td><td>%s</td><td class="%s">%s</td><td>%s</td><td>%s</td><td>`,
			esc(c.SellingPartnerID), esc(c.Region), esc(c.AccountType), esc(string(c.Status)), esc(string(c.Status)), date(c.AuthorizedAt), date(c.ReauthorizeBy))
		fmt.Fprintf(&b, `<form method="post" action="/disconnect"><input type="hidden" name="selling_partner_id" value="%s"><input type="hidden" name="region" value="%s"><button id="disconnect-%s-%s">Disconnect</button></form></td></tr>`,
			esc(c.SellingPartnerID), esc(c.Region), esc(c.SellingPartnerID), esc(c.Region))
	}
	if err == nil && len(conns) == 0 {
		b.WriteString(`<tr><td colspan="7">No Amazon account connected yet.</td></tr>`)
	}
	b.WriteString(`</table>`)
	a.eventsTable(&b, user)

	b.WriteString(`<h2>Connect an Amazon account</h2><form method="post" action="/connect"><label>Marketplace <select name="marketplace" id="marketplace">`)
	for _, m := range amazon.Marketplaces() {
		sel := ""
		if m.Code == "US" {
			sel = " selected"
		}
		fmt.Fprintf(&b, `<option value="%s"%s>%s</option>`, esc(m.Code), sel, esc(m.Code))
	}
	b.WriteString(`</select></label> <label>Account <select name="account_type" id="account_type"><option value="seller">Seller Central</option><option value="vendor">Vendor Central</option></select></label> `)
	b.WriteString(`<button class="primary" id="connect-amazon">Connect Amazon</button></form>`)

	if ids := a.recent(user); len(ids) > 0 {
		b.WriteString(`<h2>Recent connect sessions</h2><table id="sessions"><tr><th>Session</th><th>Status</th><th>Selling partner</th><th>Error</th></tr>`)
		for _, id := range ids {
			s, err := a.client.Session(ctx, id)
			if err != nil {
				a.logf("GET /connect/sessions/{session_id}: %v", err)
				fmt.Fprintf(&b, `<tr><td>%s</td><td colspan="3">%s</td></tr>`, esc(id), esc(err.Error()))
				continue
			}
			fmt.Fprintf(&b, `<tr id="session-%s"><td>%s</td><td class="%s">%s</td><td>%s</td><td>%s</td></tr>`,
				esc(id), esc(id), esc(string(s.Status)), esc(string(s.Status)), esc(s.SellingPartnerID), esc(s.Error))
		}
		b.WriteString(`</table><p><small>Statuses are read from GET /connect/sessions/{session_id}: a seller refused by the stack (connected_to_another_user) never comes back to this app, and the backend learns the outcome here.</small></p>`)
	}
	a.page(w, http.StatusOK, "Demo app", b.String())
}

// recentEventsShown is how many of the user's events the home page lists.
const recentEventsShown = 5

// UserEvents returns the events about user, newest first: those of the user's connections
// (end_user_id), and refusals of another user's attempt on one of them (owner_end_user_id).
func UserEvents(all []events.Event, user string) []events.Event {
	var out []events.Event
	for _, e := range all {
		if e.Detail.EndUserID == user || e.Detail.OwnerEndUserID == user {
			out = append(out, e)
		}
	}
	return out
}

// eventsTable lists the user's recent lifecycle events.
func (a *App) eventsTable(b *strings.Builder, user string) {
	if a.events == nil {
		return
	}
	esc := html.EscapeString
	evs := UserEvents(a.events(), user)
	b.WriteString(`<h2>Recent events</h2><table id="events"><tr><th>Time</th><th>Event</th><th>Selling partner</th><th>Region</th><th>Status</th><th>Version</th><th>Details</th></tr>`)
	for i, e := range evs {
		if i == recentEventsShown {
			break
		}
		d := e.Detail
		fmt.Fprintf(b, `<tr class="event"><td>%s</td><td class="detail-type">%s</td><td>%s</td><td>%s</td><td>%s</td><td>%d</td><td>%s</td></tr>`,
			esc(e.Time.UTC().Format("15:04:05Z")), esc(e.DetailType), esc(d.SellingPartnerID), esc(d.Region), esc(d.Status), d.Version, esc(eventDetails(d, user)))
	}
	if len(evs) == 0 {
		b.WriteString(`<tr><td colspan="7">No event about your connections yet.</td></tr>`)
	}
	b.WriteString(`</table><p><small>Lifecycle events (source sellerauth) from EventBridge, as the app's consumer receives them (about a second after the change); they never carry a token.</small></p>`)
}

// eventDetails says what an event adds beyond its columns, from the user's point of view.
func eventDetails(d events.Detail, user string) string {
	var parts []string
	switch {
	case d.OwnerEndUserID != "" && d.EndUserID == user:
		parts = append(parts, "already connected to "+d.OwnerEndUserID)
	case d.OwnerEndUserID != "":
		parts = append(parts, d.EndUserID+" tried to connect your account")
	}
	if d.PreviousEndUserID != "" && d.PreviousEndUserID != d.EndUserID {
		parts = append(parts, "previously "+d.PreviousEndUserID+"'s")
	}
	if d.Reason != "" {
		parts = append(parts, "reason "+d.Reason)
	}
	if d.DaysLeft != 0 {
		parts = append(parts, fmt.Sprintf("%d days left", d.DaysLeft))
	}
	return strings.Join(parts, "; ")
}

func date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04Z")
}

// apiFailure shows a failed call to the backend API. The connect client's errors hold the
// status, the API's code and message, never a credential or a connect URL.
func (a *App) apiFailure(w http.ResponseWriter, what string, err error) {
	a.logf("%s: %v", what, err)
	status := http.StatusBadGateway
	var apiErr *connect.APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode < 500 {
		status = http.StatusBadRequest
	}
	a.page(w, status, what, `<p class="err" id="api-error">`+html.EscapeString(what)+`: `+html.EscapeString(err.Error())+`</p><p><a href="/">Back</a></p>`)
}

const style = `<style>
body{font-family:system-ui,sans-serif;margin:0;background:#f6f7fb;color:#1d2433}
header{background:#3b4cca;color:#fff;padding:12px 24px;font-size:18px}
main{max-width:820px;margin:24px auto;background:#fff;border:1px solid #dde;border-radius:8px;padding:24px}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #dde;padding:6px;text-align:left;font-size:14px}
button{padding:6px 16px;border-radius:6px;border:1px solid #889;cursor:pointer;font-size:14px;background:#fff}
button.primary{background:#3b4cca;color:#fff;border-color:#3b4cca}
form{display:inline}.ok{border-left:6px solid #1a7f37;padding:8px 16px;background:#f0fff4}
.err{border-left:6px solid #c40000;padding:8px 16px;background:#fff5f5}
td.detail-type{white-space:nowrap}.active,.connected{color:#1a7f37}.reauthorization_required,.failed,.expired{color:#b00}
</style>`

// page writes a whole page around body, which is HTML whose values are already escaped.
func (a *App) page(w http.ResponseWriter, status int, title, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<!doctype html><html><head><meta charset="utf-8"><title>%s</title>%s</head><body>
<header>Your app <small>(sellerauth demo)</small></header><main>%s</main></body></html>`,
		html.EscapeString(title)+" · Your app", style, body)
}

// SignInURL is the APP_SIGN_IN_URL of a demo app served at appURL.
func SignInURL(appURL string) string {
	u, err := url.JoinPath(appURL, AppstoreSignInPath)
	if err != nil {
		return strings.TrimSuffix(appURL, "/") + AppstoreSignInPath
	}
	return u
}
