package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/sellerauth/sellerauth/internal/amazon"
)

// Paths of the consent side, as on Seller Central and Vendor Central.
const (
	ConsentPath = "/apps/authorize/consent"
	// ConfirmPathPrefix is where amazon_callback_uri points: the log-in URI step comes back here.
	ConfirmPathPrefix = "/apps/authorize/confirm/"
	// AdminPath is the sandbox's own page: authorizations, Revoke, the flow switch, and the
	// client secret's rotation.
	AdminPath = "/sandbox/admin"
)

// pendingTTL is how long Amazon waits for the log-in URI step to come back.
const pendingTTL = 15 * time.Minute

// App is the SP-API application as registered with the sandbox's Seller Central: what the
// consent page checks the consent URL against.
type App struct {
	// Name is shown on the consent page.
	Name string
	// ApplicationID is the app's ID (amzn1.sp.solution…); any other gets MD1000.
	ApplicationID string
	// Draft apps need version=beta (else MD1000); published ones must not send it.
	Draft bool
	// RedirectURIs are the registered OAuth redirect URIs; the first is used when the consent
	// URL names none, and any other redirect_uri gets MD5101.
	RedirectURIs []string
	// LoginURI is the registered OAuth log-in URI. Empty means the older flow, straight from
	// Confirm to the redirect URI.
	LoginURI string
}

// pendingConsent is a Confirm waiting for the log-in URI step.
type pendingConsent struct {
	amazonState      string
	state            string
	redirectURI      string
	sentRedirectURI  bool
	sellingPartnerID string
	expiresAt        time.Time
}

// Authorization is one seller's consent as the sandbox's admin page lists it.
type Authorization struct {
	SellingPartnerID string
	AccountType      amazon.AccountType
	Marketplace      string
	At               time.Time
	Revoked          bool
}

// SetDirectFlow switches between the current flow (Confirm → log-in URI → amazon_callback_uri →
// redirect URI) and the older one (Confirm → redirect URI). With no LoginURI the flow is always direct.
func (s *Sandbox) SetDirectFlow(direct bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.directFlow = direct
}

// Authorizations lists the consents given on the consent page, newest first.
func (s *Sandbox) Authorizations() []Authorization {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Authorization, 0, len(s.consents))
	for _, a := range s.consents {
		_, live := s.latestRefresh[a.SellingPartnerID]
		a.Revoked = !live && a.exchanged
		out = append(out, a.Authorization)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].At.After(out[j].At) })
	return out
}

type consentRecord struct {
	Authorization
	exchanged bool
}

func (s *Sandbox) registerConsentRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+ConsentPath, s.serveConsentPage)
	mux.HandleFunc("POST "+ConsentPath, s.serveConsentDecision)
	mux.HandleFunc("GET "+ConfirmPathPrefix+"{id}", s.serveConfirm)
	mux.HandleFunc("GET "+AdminPath, s.serveAdmin)
	mux.HandleFunc("POST "+AdminPath+"/revoke", s.serveAdminRevoke)
	mux.HandleFunc("POST "+AdminPath+"/flow", s.serveAdminFlow)
	mux.HandleFunc("POST "+AdminPath+"/rotate-secret", s.serveAdminRotateSecret)
	mux.HandleFunc("POST "+AdminPath+"/retire-old-secret", s.serveAdminRetireOldSecret)
	mux.HandleFunc("GET "+AppstorePath, s.serveAppstore)
	mux.HandleFunc("POST "+AppstorePath, s.serveAppstoreAuthorize)
}

// consentError is an error page of Amazon's consent step (Amazon shows it; nothing comes back to the app).
type consentError struct {
	Code, Message string
}

// checkConsentURL applies Amazon's checks of the consent URL, in the order of docs/amazon.md.
func (s *Sandbox) checkConsentURL(q url.Values) (redirectURI string, sent bool, e *consentError) {
	app := s.app
	id := q.Get("application_id")
	switch {
	case app.ApplicationID == "" || id != app.ApplicationID:
		if strings.HasPrefix(id, "amzn1.application-oa2-client.") {
			return "", false, &consentError{"MD1000", "The application ID is an LWA client ID; use the SP-API application ID."}
		}
		return "", false, &consentError{"MD1000", "Unknown application ID."}
	case app.Draft && q.Get("version") != "beta":
		return "", false, &consentError{"MD1000", "This application is in Draft: the authorization URL needs version=beta."}
	case !app.Draft && q.Has("version"):
		return "", false, &consentError{"MD1000", "This application is published: remove version=beta from the authorization URL."}
	case q.Get("state") == "":
		return "", false, &consentError{"MD1000", "The authorization URL has no state."}
	}
	if q.Has("redirect_uri") {
		r := q.Get("redirect_uri")
		if strings.Contains(r, "#") {
			return "", false, &consentError{"MD5110", "The redirect URI has a fragment (#)."}
		}
		if !slices.Contains(app.RedirectURIs, r) {
			return "", false, &consentError{"MD5101", "The redirect URI is not registered for this application."}
		}
		return r, true, nil
	}
	if len(app.RedirectURIs) == 0 {
		return "", false, &consentError{"MD5101", "The application has no registered redirect URI."}
	}
	return app.RedirectURIs[0], false, nil
}

type consentPage struct {
	App          App
	Query        url.Values
	Central      string // "seller" or "vendor"
	Marketplaces []amazon.Marketplace
	Marketplace  string
	SellerID     string
	Error        *consentError
	Message      string
}

func (s *Sandbox) serveConsentPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := consentPage{App: s.app, Query: q, Central: "seller", Marketplace: "US", Marketplaces: amazon.Marketplaces()}
	if q.Get("sandbox_central") == "vendor" {
		p.Central = "vendor"
	}
	if m := q.Get("sandbox_marketplace"); m != "" {
		p.Marketplace = m
	}
	p.SellerID = defaultSellerID(p.Central)
	if _, _, e := s.checkConsentURL(q); e != nil {
		p.Error = e
		render(w, http.StatusOK, consentErrorTemplate, p)
		return
	}
	render(w, http.StatusOK, consentTemplate, p)
}

func defaultSellerID(central string) string {
	if central == "vendor" {
		return "A2SANDBOXVENDOR1"
	}
	return "A1SANDBOXSELLER1"
}

func (s *Sandbox) serveConsentDecision(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	q, _ := url.ParseQuery(r.PostForm.Get("query"))
	redirectURI, sent, e := s.checkConsentURL(q)
	if e != nil {
		render(w, http.StatusOK, consentErrorTemplate, consentPage{App: s.app, Error: e})
		return
	}
	if r.PostForm.Get("decision") != "confirm" {
		// Amazon documents no redirect for Cancel: the app never hears of it.
		render(w, http.StatusOK, messageTemplate, consentPage{App: s.app, Message: "You did not authorize " + s.app.Name + ". Amazon does not tell the application."})
		return
	}
	spid := s.recordConsent(r.PostForm)
	s.mu.Lock()
	direct := s.directFlow || s.app.LoginURI == ""
	s.mu.Unlock()

	if direct {
		s.redirectWithCode(w, r, redirectURI, sent, q.Get("state"), spid)
		return
	}
	s.toLoginURI(w, r, pendingConsent{state: q.Get("state"), redirectURI: redirectURI, sentRedirectURI: sent, sellingPartnerID: spid})
}

// toLoginURI sends the browser to the app's log-in URI with amazon_callback_uri (this sandbox's
// confirm URL for p), amazon_state, selling_partner_id and, for a draft app, version=beta, as
// Seller Central does after a consent; the log-in step comes back to serveConfirm.
func (s *Sandbox) toLoginURI(w http.ResponseWriter, r *http.Request, p pendingConsent) {
	login, err := url.Parse(s.app.LoginURI)
	if err != nil || s.app.LoginURI == "" {
		http.Error(w, "sandbox: bad LoginURI", http.StatusInternalServerError)
		return
	}
	id := randomHex(16)
	p.amazonState = randomHex(16)
	s.mu.Lock()
	p.expiresAt = s.now().Add(pendingTTL)
	s.pending[id] = p
	s.mu.Unlock()
	lq := login.Query()
	lq.Set("amazon_callback_uri", "http://"+r.Host+ConfirmPathPrefix+id)
	lq.Set("amazon_state", p.amazonState)
	lq.Set("selling_partner_id", p.sellingPartnerID)
	if s.app.Draft {
		lq.Set("version", "beta")
	}
	login.RawQuery = lq.Encode()
	http.Redirect(w, r, login.String(), http.StatusFound)
}

// serveConfirm is amazon_callback_uri: the app's log-in URI sends the browser back here with
// amazon_state, its state and optionally redirect_uri and version=beta.
func (s *Sandbox) serveConfirm(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	id := r.PathValue("id")
	s.mu.Lock()
	p, ok := s.pending[id]
	if ok {
		delete(s.pending, id)
	}
	now := s.now()
	s.mu.Unlock()
	fail := func(code, msg string) {
		render(w, http.StatusBadRequest, consentErrorTemplate, consentPage{App: s.app, Error: &consentError{code, msg}})
	}
	switch {
	case !ok || !now.Before(p.expiresAt):
		fail("MD9100", "This authorization request has expired or was already used. Start again from the application.")
		return
	case q.Get("amazon_state") != p.amazonState:
		fail("MD9100", "amazon_state does not match.")
		return
	case q.Get("state") == "":
		fail("MD1000", "The log-in URI step returned no state.")
		return
	case s.app.Draft && q.Get("version") != "beta":
		fail("MD1000", "This application is in Draft: the log-in URI step must pass version=beta.")
		return
	}
	redirectURI, sent := p.redirectURI, p.sentRedirectURI
	if q.Has("redirect_uri") {
		redirectURI, sent = q.Get("redirect_uri"), true
		if !slices.Contains(s.app.RedirectURIs, redirectURI) {
			fail("MD5101", "The redirect URI is not registered for this application.")
			return
		}
	}
	s.redirectWithCode(w, r, redirectURI, sent, q.Get("state"), p.sellingPartnerID)
}

// redirectWithCode ends the consent: a new 5-minute code, bound to the redirect_uri that was
// sent (or to none), and the browser to the redirect URI.
func (s *Sandbox) redirectWithCode(w http.ResponseWriter, r *http.Request, redirectURI string, sent bool, state, spid string) {
	var code string
	if sent {
		code = s.IssueCodeFor(spid, redirectURI)
	} else {
		code = s.IssueCodeFor(spid, "")
	}
	s.mu.Lock()
	if c, ok := s.consents[spid]; ok {
		c.exchanged = true
		s.consents[spid] = c
	}
	s.mu.Unlock()
	u, err := url.Parse(redirectURI)
	if err != nil {
		http.Error(w, "sandbox: bad redirect URI", http.StatusInternalServerError)
		return
	}
	v := u.Query()
	v.Set("state", state)
	v.Set("selling_partner_id", spid)
	v.Set("spapi_oauth_code", code)
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

type adminPage struct {
	App            App
	Authorizations []Authorization
	Direct         bool
	Stats          Stats
	ClientID       string
	Secret         SecretRotation
}

func (s *Sandbox) serveAdmin(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	direct := s.directFlow || s.app.LoginURI == ""
	s.mu.Unlock()
	render(w, http.StatusOK, adminTemplate, adminPage{App: s.app, Authorizations: s.Authorizations(), Direct: direct, Stats: s.Stats(),
		ClientID: s.clientID, Secret: s.SecretRotation()})
}

// notifyTimeout bounds the delivery of a notification from the admin page.
const notifyTimeout = 10 * time.Second

// serveAdminRotateSecret rotates the client secret and sends the notification; a delivery error
// is on the admin page (SecretRotation.NotifyError).
func (s *Sandbox) serveAdminRotateSecret(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), notifyTimeout)
	defer cancel()
	_, _ = s.RotateClientSecret(ctx)
	http.Redirect(w, r, AdminPath, http.StatusSeeOther)
}

func (s *Sandbox) serveAdminRetireOldSecret(w http.ResponseWriter, r *http.Request) {
	s.RetireOldSecret()
	http.Redirect(w, r, AdminPath, http.StatusSeeOther)
}

func (s *Sandbox) serveAdminRevoke(w http.ResponseWriter, r *http.Request) {
	if spid := r.FormValue("selling_partner_id"); spid != "" {
		s.Revoke(spid)
	}
	http.Redirect(w, r, AdminPath, http.StatusSeeOther)
}

func (s *Sandbox) serveAdminFlow(w http.ResponseWriter, r *http.Request) {
	s.SetDirectFlow(r.FormValue("direct") == "true")
	http.Redirect(w, r, AdminPath, http.StatusSeeOther)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func render(w http.ResponseWriter, status int, t *template.Template, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = t.Execute(w, data)
}

// recordConsent remembers the seller's consent from the consent or Appstore form (who, which
// central, which marketplace) and returns the selling partner ID.
func (s *Sandbox) recordConsent(form url.Values) string {
	spid := strings.TrimSpace(form.Get("selling_partner_id"))
	if spid == "" {
		spid = defaultSellerID(form.Get("central"))
	}
	at := amazon.Seller
	if form.Get("central") == "vendor" {
		at = amazon.Vendor
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.consents[spid] = consentRecord{Authorization: Authorization{SellingPartnerID: spid, AccountType: at, Marketplace: form.Get("marketplace"), At: s.now()}}
	return spid
}
