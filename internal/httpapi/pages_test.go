package httpapi

import (
	"strings"
	"testing"
)

// Every value a page shows is escaped: a hostile selling_partner_id or message cannot inject markup.
func TestPagesEscapeValues(t *testing.T) {
	hostile := `<script>alert("x")</script>&'`
	for _, name := range []string{"landing", "success", "error"} {
		body := render(name, pageData{Title: hostile, Message: hostile, SellingPartnerID: hostile, Region: hostile,
			ListMarketplaces: true, Regions: regions()})
		if strings.Contains(body, "<script") || strings.Contains(body, `"x"`) {
			t.Errorf("%s page did not escape its values", name)
		}
		if !strings.HasPrefix(body, "<!doctype html>") || !strings.HasSuffix(body, "</body></html>\n") {
			t.Errorf("%s page is not a whole document", name)
		}
	}
	landing := render("landing", pageData{Regions: regions()})
	for _, want := range []string{`href="authorize?marketplace=US"`, `href="authorize?marketplace=DE&amp;account_type=vendor"`, "Far East"} {
		if !strings.Contains(landing, want) {
			t.Errorf("landing page lacks %s", want)
		}
	}
	if strings.Contains(landing, `marketplace=IE&amp;account_type=vendor`) {
		t.Error("landing page offers Vendor Central where Amazon has none")
	}
}
