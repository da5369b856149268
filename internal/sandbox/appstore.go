package sandbox

import (
	"html/template"
	"net/http"

	"github.com/sellerauth/sellerauth/internal/amazon"
)

// AppstorePath is the sandbox's Selling Partner Appstore listing of the app: "Authorize now"
// starts an Appstore-initiated authorization, which reaches the app first at its log-in URI,
// without a state of the app's own.
const AppstorePath = "/sandbox/appstore"

// serveAppstore is the app's Appstore detail page, where a seller who is signed in to Seller or
// Vendor Central authorizes it; at Amazon the seller consents on the next page, here on this one.
func (s *Sandbox) serveAppstore(w http.ResponseWriter, r *http.Request) {
	p := consentPage{App: s.app, Central: "seller", Marketplace: "US", Marketplaces: amazon.Marketplaces()}
	if r.URL.Query().Get("central") == "vendor" {
		p.Central = "vendor"
	}
	p.SellerID = defaultSellerID(p.Central)
	if s.app.LoginURI == "" {
		p.Error = &consentError{"MD1000", "This application has no log-in URI: it cannot be authorized from the Appstore."}
		render(w, http.StatusOK, consentErrorTemplate, p)
		return
	}
	render(w, http.StatusOK, appstoreTemplate, p)
}

// serveAppstoreAuthorize is "Authorize now": the consent is recorded and the browser goes to the
// app's log-in URI with amazon_callback_uri, amazon_state and selling_partner_id, exactly as
// after a consent of the website flow, but the app has no state in it yet: the app must sign its
// user in and come back to amazon_callback_uri with a state of its own.
func (s *Sandbox) serveAppstoreAuthorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	if s.app.LoginURI == "" || len(s.app.RedirectURIs) == 0 {
		render(w, http.StatusOK, consentErrorTemplate, consentPage{App: s.app,
			Error: &consentError{"MD1000", "This application has no log-in URI or redirect URI: it cannot be authorized from the Appstore."}})
		return
	}
	spid := s.recordConsent(r.PostForm)
	// No redirect_uri was sent (there was no consent URL): the code goes to the first registered one.
	s.toLoginURI(w, r, pendingConsent{redirectURI: s.app.RedirectURIs[0], sellingPartnerID: spid})
}

var appstoreTemplate = template.Must(template.New("appstore").Parse(`<!doctype html><html><head><meta charset="utf-8">
<title>Selling Partner Appstore (sandbox): {{.App.Name}}</title>` + pageStyle + `</head><body>
<header><b>amazon</b> Selling Partner Appstore <small style="color:#ccc">sandbox</small></header>
<main>
<h1>{{.App.Name}}</h1>
<p><b>{{.App.Name}}</b> ({{.App.ApplicationID}}) uses the Selling Partner API.{{if .App.Draft}} <small>This app is in Draft (version=beta).</small>{{end}}</p>
<p><small>Authorize now starts an Appstore-initiated authorization: Amazon sends you to the app's log-in URI, where the app signs you in, then back to Amazon, then to the app's redirect URI.</small></p>
<form method="post" action="/sandbox/appstore" id="appstore">
<label for="central">Signed in to</label>
<select name="central" id="central">
<option value="seller"{{if eq .Central "seller"}} selected{{end}}>Seller Central</option>
<option value="vendor"{{if eq .Central "vendor"}} selected{{end}}>Vendor Central</option>
</select>
<label for="marketplace">Marketplace</label>
<select name="marketplace" id="marketplace">{{$m := .Marketplace}}{{range .Marketplaces}}
<option value="{{.Code}}"{{if eq .Code $m}} selected{{end}}>{{.Code}} ({{.ID}})</option>{{end}}
</select>
<label for="selling_partner_id">Selling partner ID</label>
<input name="selling_partner_id" id="selling_partner_id" value="{{.SellerID}}">
<p><small>I direct Amazon to provide {{.App.Name}} with access to my Amazon selling partner account.</small></p>
<p><button class="primary" type="submit" id="authorize-now">Authorize now</button></p>
</form>
</main></body></html>`))
