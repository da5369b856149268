package sandbox

import "html/template"

const pageStyle = `<style>
body{font-family:Arial,Helvetica,sans-serif;margin:0;background:#f2f2f2;color:#0f1111}
header{background:#232f3e;color:#fff;padding:12px 24px;font-size:18px}
header b{color:#ff9900}
main{max-width:640px;margin:24px auto;background:#fff;border:1px solid #ddd;border-radius:8px;padding:24px}
.err{border-left:6px solid #c40000;padding:8px 16px;background:#fff5f5}
button{padding:8px 20px;border-radius:20px;border:1px solid #888;cursor:pointer;font-size:15px}
button.primary{background:#ffd814;border-color:#fcd200}
label{display:block;margin:10px 0 4px}
select,input{padding:6px;font-size:15px;min-width:260px}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:6px;text-align:left}
small{color:#565959}
</style>`

var consentTemplate = template.Must(template.New("consent").Parse(`<!doctype html><html><head><meta charset="utf-8">
<title>{{if eq .Central "vendor"}}Vendor Central{{else}}Seller Central{{end}} (sandbox): authorize {{.App.Name}}</title>` + pageStyle + `</head><body>
<header><b>amazon</b> <span id="central-name">{{if eq .Central "vendor"}}Vendor Central{{else}}Seller Central{{end}}</span> <small style="color:#ccc">sandbox</small></header>
<main>
<h1>Authorize {{.App.Name}}</h1>
<p><b>{{.App.Name}}</b> ({{.App.ApplicationID}}) asks for access to your selling partner account through the Selling Partner API.{{if .App.Draft}} <small>This app is in Draft (version=beta).</small>{{end}}</p>
<form method="post" action="/apps/authorize/consent" id="consent">
<input type="hidden" name="query" value="{{.Query.Encode}}">
<label for="central">Signed in to</label>
<select name="central" id="central" onchange="document.getElementById('central-name').textContent=this.options[this.selectedIndex].text">
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
<p><button class="primary" type="submit" name="decision" value="confirm" id="confirm">Confirm</button>
<button type="submit" name="decision" value="cancel" id="cancel">Cancel</button></p>
</form>
</main></body></html>`))

var consentErrorTemplate = template.Must(template.New("consent-error").Parse(`<!doctype html><html><head><meta charset="utf-8">
<title>Error {{.Error.Code}} (sandbox)</title>` + pageStyle + `</head><body>
<header><b>amazon</b> Seller Central <small style="color:#ccc">sandbox</small></header>
<main><div class="err"><h1>We are unable to complete your request</h1>
<p id="error-code">Error code: <b>{{.Error.Code}}</b></p><p>{{.Error.Message}}</p></div></main></body></html>`))

var messageTemplate = template.Must(template.New("message").Parse(`<!doctype html><html><head><meta charset="utf-8">
<title>Seller Central (sandbox)</title>` + pageStyle + `</head><body>
<header><b>amazon</b> Seller Central <small style="color:#ccc">sandbox</small></header>
<main><p id="message">{{.Message}}</p></main></body></html>`))

var adminTemplate = template.Must(template.New("admin").Parse(`<!doctype html><html><head><meta charset="utf-8">
<title>Sandbox Amazon: admin</title>` + pageStyle + `</head><body>
<header><b>amazon</b> sandbox admin</header>
<main>
<h1>Authorizations of {{.App.Name}}</h1>
<table><tr><th>Selling partner</th><th>Account</th><th>Marketplace</th><th>Consented</th><th></th></tr>
{{range .Authorizations}}<tr><td>{{.SellingPartnerID}}</td><td>{{.AccountType}}</td><td>{{.Marketplace}}</td><td>{{.At.UTC.Format "2006-01-02 15:04:05Z"}}</td>
<td>{{if .Revoked}}revoked{{else}}<form method="post" action="/sandbox/admin/revoke"><input type="hidden" name="selling_partner_id" value="{{.SellingPartnerID}}"><button id="revoke-{{.SellingPartnerID}}">Revoke</button></form>{{end}}</td></tr>
{{else}}<tr><td colspan="5">none yet</td></tr>{{end}}</table>
<p><small>Revoke is the seller removing the app: its refresh tokens get invalid_grant from now on.</small></p>
<h2>Flow</h2>
<form method="post" action="/sandbox/admin/flow">
{{if .Direct}}<p>Older direct flow: Confirm goes straight to the redirect URI.</p>{{if .App.LoginURI}}<button name="direct" value="false">Use the log-in URI step</button>{{end}}
{{else}}<p>Current flow: Confirm goes to the log-in URI ({{.App.LoginURI}}), then back to Amazon, then to the redirect URI.</p><button name="direct" value="true">Use the older direct flow</button>{{end}}
</form>
{{if .App.LoginURI}}<p><a href="/sandbox/appstore" id="appstore-link">Authorize from the Appstore</a> <small>(an Appstore-initiated authorization: the app's log-in URI comes first, without a state of the app's)</small></p>{{end}}
<h2 id="client-secret">Client secret</h2>
<p id="secret-status">{{if eq .Secret.Live 2}}Two client secrets work for {{.ClientID}}: the new one and the previous one, until the old one is retired (at Amazon, 7 days after the rotation).{{else}}One client secret works for {{.ClientID}}.{{end}}
{{if not .Secret.At.IsZero}}Last rotated {{.Secret.At.UTC.Format "2006-01-02 15:04:05Z"}}: {{if .Secret.NotifyError}}<b id="notify-error" style="color:#c40000">{{.Secret.NotifyError}}</b>{{else}}<span id="notification-sent">APPLICATION_OAUTH_CLIENT_NEW_SECRET <code>{{.Secret.NotificationID}}</code> sent to the app's notification queue.</span>{{end}}{{end}}</p>
<form method="post" action="/sandbox/admin/rotate-secret"><button id="rotate-secret">Rotate client secret</button></form>
{{if eq .Secret.Live 2}}<form method="post" action="/sandbox/admin/retire-old-secret"><p><button id="retire-old-secret">Retire old secret</button></p></form>{{end}}
<p><small>Rotate is the developer rotating the secret (Solution Provider Portal, or rotateApplicationClientSecret): the new secret reaches the app only in the {{if .Secret.Notifies}}notification{{else}}notification, and this sandbox has no notification destination{{end}}, and is never shown here. Retire ends the overlap: only the new secret works.</small></p>
<h2>Token endpoint</h2>
<p>{{.Stats.TokenRequests}} requests, {{.Stats.CodeExchanges}} code exchanges, {{.Stats.Refreshes}} refreshes.</p>
</main></body></html>`))
