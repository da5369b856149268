package httpapi

import (
	"html"
	"net/url"
	"strings"

	"github.com/sellerauth/sellerauth/internal/amazon"
)

// The pages are small, self-contained HTML: no JavaScript and no third-party resources, so the
// Content-Security-Policy can forbid both. They are written out directly rather than with
// html/template: every dynamic value passes through esc, and dropping the template engine (and the
// reflection it needs) takes a quarter of the binary and a slice of every cold start away.
const pageTop = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>`

const pageStyle = `</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#111}
h1{font-size:1.6rem}h2{font-size:1.1rem;margin-top:1.5rem}
table{border-collapse:collapse;width:100%}td,th{padding:.35rem .5rem;border-bottom:1px solid #ddd;text-align:left}
a.button{display:inline-block;padding:.3rem .8rem;border-radius:4px;background:#ff9900;color:#111;text-decoration:none;font-weight:600}
a.button.vendor{background:#232f3e;color:#fff}.muted{color:#555}code{background:#f3f3f3;padding:0 .2rem}
</style></head><body>
`

const pageBottom = "</body></html>\n"

// esc escapes text for HTML element content and double-quoted attribute values.
var esc = html.EscapeString

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

// render writes the named page.
func render(name string, d pageData) string {
	var b strings.Builder
	b.WriteString(pageTop)
	b.WriteString(esc(d.Title))
	b.WriteString(pageStyle)
	switch name {
	case "landing":
		b.WriteString(`<h1>Connect your Amazon account</h1>
<p>Authorize this app to use the Selling Partner API for your account. You will sign in on Amazon,
review the access requested and come back here. One authorization covers every marketplace of a region.</p>
`)
		writeMarketplaces(&b, d.Regions)
	case "success":
		b.WriteString("<h1>Authorization complete</h1>\n<p>Thank you. Selling partner <code>")
		b.WriteString(esc(d.SellingPartnerID))
		b.WriteString("</code> is connected for the <strong>")
		b.WriteString(esc(d.Region))
		b.WriteString("</strong> region.</p>\n" +
			`<p class="muted">You can close this page. To connect another region, <a href="./">start again</a>.</p>` + "\n")
	default: // "error"
		b.WriteString("<h1>" + esc(d.Title) + "</h1>\n<p>" + esc(d.Message) + "</p>\n" +
			`<p><a class="button" href="./">Start again</a></p>` + "\n")
		if d.ListMarketplaces {
			writeMarketplaces(&b, d.Regions)
		}
	}
	b.WriteString(pageBottom)
	return b.String()
}

func writeMarketplaces(b *strings.Builder, regions []regionGroup) {
	for _, r := range regions {
		b.WriteString("<h2>" + esc(r.Name) + "</h2>\n<table><tr><th>Marketplace</th><th>ID</th><th></th><th></th></tr>\n")
		for _, m := range r.Marketplaces {
			code := esc(url.QueryEscape(m.Code))
			b.WriteString("<tr><td>" + esc(m.Code) + `</td><td class="muted"><code>` + esc(m.ID) + "</code></td>\n" +
				`<td><a class="button" href="authorize?marketplace=` + code + `">Authorize (Seller Central)</a></td>` + "\n<td>")
			if m.VendorCentral != "" {
				b.WriteString(`<a class="button vendor" href="authorize?marketplace=` + code +
					`&amp;account_type=vendor">Authorize (Vendor Central)</a>`)
			}
			b.WriteString("</td></tr>\n")
		}
		b.WriteString("</table>\n")
	}
}
