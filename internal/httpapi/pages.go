package httpapi

import (
	"bytes"
	"fmt"
	"html/template"
	"sync"

	"github.com/sellerauth/sellerauth/internal/amazon"
)

// The pages are small, self-contained HTML: no JavaScript and no third-party resources, so the
// Content-Security-Policy can forbid both.
const layout = `{{define "top"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#111}
h1{font-size:1.6rem}h2{font-size:1.1rem;margin-top:1.5rem}
table{border-collapse:collapse;width:100%}td,th{padding:.35rem .5rem;border-bottom:1px solid #ddd;text-align:left}
a.button{display:inline-block;padding:.3rem .8rem;border-radius:4px;background:#ff9900;color:#111;text-decoration:none;font-weight:600}
a.button.vendor{background:#232f3e;color:#fff}.muted{color:#555}code{background:#f3f3f3;padding:0 .2rem}
</style></head><body>{{end}}
{{define "bottom"}}</body></html>{{end}}
{{define "marketplaces"}}{{range .Regions}}<h2>{{.Name}}</h2>
<table><tr><th>Marketplace</th><th>ID</th><th></th><th></th></tr>
{{range .Marketplaces}}<tr><td>{{.Code}}</td><td class="muted"><code>{{.ID}}</code></td>
<td><a class="button" href="authorize?marketplace={{.Code}}">Authorize (Seller Central)</a></td>
<td>{{if .VendorCentral}}<a class="button vendor" href="authorize?marketplace={{.Code}}&amp;account_type=vendor">Authorize (Vendor Central)</a>{{end}}</td></tr>
{{end}}</table>{{end}}{{end}}`

const landingPage = `{{template "top" .}}
<h1>Connect your Amazon account</h1>
<p>Authorize this app to use the Selling Partner API for your account. You will sign in on Amazon,
review the access requested and come back here. One authorization covers every marketplace of a region.</p>
{{template "marketplaces" .}}
{{template "bottom" .}}`

const successPage = `{{template "top" .}}
<h1>Authorization complete</h1>
<p>Thank you. Selling partner <code>{{.SellingPartnerID}}</code> is connected for the <strong>{{.Region}}</strong> region.</p>
<p class="muted">You can close this page. To connect another region, <a href="./">start again</a>.</p>
{{template "bottom" .}}`

const errorPage = `{{template "top" .}}
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
<p><a class="button" href="./">Start again</a></p>
{{if .ListMarketplaces}}{{template "marketplaces" .}}{{end}}
{{template "bottom" .}}`

var pages = sync.OnceValue(func() *template.Template {
	t := template.Must(template.New("layout").Parse(layout))
	template.Must(t.New("landing").Parse(landingPage))
	template.Must(t.New("success").Parse(successPage))
	template.Must(t.New("error").Parse(errorPage))
	return t
})

type regionGroup struct {
	Name         string
	Marketplaces []amazon.Marketplace
}

var regionNames = map[amazon.Region]string{
	amazon.RegionNA: "North America",
	amazon.RegionEU: "Europe, Middle East, Africa and India",
	amazon.RegionFE: "Far East",
}

// regions groups the marketplaces by region, in the table's order.
func regions() []regionGroup {
	var out []regionGroup
	index := map[amazon.Region]int{}
	for _, m := range amazon.Marketplaces() {
		i, ok := index[m.Region]
		if !ok {
			i = len(out)
			index[m.Region] = i
			out = append(out, regionGroup{Name: regionNames[m.Region]})
		}
		out[i].Marketplaces = append(out[i].Marketplaces, m)
	}
	return out
}

type pageData struct {
	Title            string
	Message          string
	ListMarketplaces bool
	SellingPartnerID string
	Region           string
	Regions          []regionGroup
}

func render(name string, d pageData) (string, error) {
	var b bytes.Buffer
	if err := pages().ExecuteTemplate(&b, name, d); err != nil {
		return "", fmt.Errorf("render %s: %w", name, err)
	}
	return b.String(), nil
}
