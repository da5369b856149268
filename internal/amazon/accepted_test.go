package amazon

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
)

// countryHosts are the Seller Central origins accepted on top of the marketplace table, written
// out here rather than read from extraSellerCentral so that the tests check the code against an
// independent copy.
var countryHosts = map[string]Region{
	"https://sellercentral.amazon.co.uk": RegionEU,
	"https://sellercentral.amazon.de":    RegionEU,
	"https://sellercentral.amazon.fr":    RegionEU,
	"https://sellercentral.amazon.it":    RegionEU,
	"https://sellercentral.amazon.es":    RegionEU,
}

// wantAccepted is every origin the code must accept, with the region and account type it must map
// to: the table's origins (from docs/amazon.md, via wantMarketplaces' source) plus countryHosts.
// It is computed once because the fuzz target consults it on every input.
var wantAccepted = func() map[string]originUse {
	out := map[string]originUse{}
	for _, line := range strings.Split(strings.TrimSpace(amazonMD), "\n") {
		f := strings.Split(strings.Trim(line, "| "), " | ")
		var r Region
		for region, codes := range amazonMDRegions {
			if slices.Contains(strings.Split(codes, ", "), f[0]) {
				r = region
			}
		}
		out[f[2]] = originUse{r, Seller}
		if f[3] != "(none listed)" {
			out[f[3]] = originUse{r, Vendor}
		}
	}
	for o, r := range countryHosts {
		out[o] = originUse{r, Seller}
	}
	return out
}()

func TestAcceptedOrigins(t *testing.T) {
	got := AcceptedOrigins()
	want := slices.Sorted(maps.Keys(wantAccepted))
	// 38 distinct origins in the table plus the five country hosts.
	if len(want) != 43 {
		t.Fatalf("the test expects %d origins, want 43", len(want))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("AcceptedOrigins() =\n%q\nwant\n%q", got, want)
	}
	if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Errorf("AcceptedOrigins() is not sorted and unique: %q", got)
	}
	for _, o := range got {
		if p, err := parseOrigin(o); err != nil || p.String() != o || p.scheme != "https" {
			t.Errorf("origin %q is not a lower-case https origin on the default port without a slash", o)
		}
	}
	got[0] = "https://evil.example"
	if AcceptedOrigins()[0] == "https://evil.example" {
		t.Fatal("editing the result of AcceptedOrigins changed the list")
	}
	if _, _, ok := LookupOrigin("https://evil.example"); ok {
		t.Fatal("editing the result of AcceptedOrigins changed LookupOrigin")
	}
}

// TestCountryHostsAreExtra pins down that the country hosts widen what we accept, not where we
// send: none is a table origin, and the UK/DE/FR/IT/ES marketplaces still send sellers to
// sellercentral-europe.amazon.com.
func TestCountryHostsAreExtra(t *testing.T) {
	for o := range countryHosts {
		if _, inTable := allOrigins()[o]; inTable {
			t.Errorf("%s is already a table origin", o)
		}
	}
	for _, code := range []string{"UK", "DE", "FR", "IT", "ES"} {
		t.Run(code, func(t *testing.T) {
			m, _ := LookupMarketplace(code)
			if got, err := m.Origin(Seller); err != nil || got != "https://sellercentral-europe.amazon.com" {
				t.Fatalf("Origin(Seller) = %q, %v; want the table's https://sellercentral-europe.amazon.com", got, err)
			}
		})
	}
}

func TestLookupOriginCountryHosts(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		region   Region
		at       AccountType
	}{
		{"UK", "https://sellercentral.amazon.co.uk", RegionEU, Seller},
		{"DE", "https://sellercentral.amazon.de", RegionEU, Seller},
		{"FR", "https://sellercentral.amazon.fr", RegionEU, Seller},
		{"IT", "https://sellercentral.amazon.it", RegionEU, Seller},
		{"ES", "https://sellercentral.amazon.es", RegionEU, Seller},
		{"Europe stays", "https://sellercentral-europe.amazon.com", RegionEU, Seller},
		{"US stays", "https://sellercentral.amazon.com", RegionNA, Seller},
		{"JP stays", "https://sellercentral.amazon.co.jp", RegionFE, Seller},
		{"UK Vendor Central stays vendor", "https://vendorcentral.amazon.co.uk", RegionEU, Vendor},
		{"DE Vendor Central stays vendor", "https://vendorcentral.amazon.de", RegionEU, Vendor},
		{"upper-case UK host", "https://SELLERCENTRAL.AMAZON.CO.UK", RegionEU, Seller},
		{"upper-case scheme DE", "HTTPS://sellercentral.amazon.de", RegionEU, Seller},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, at, ok := LookupOrigin(tc.in)
			if !ok || r != tc.region || at != tc.at {
				t.Fatalf("LookupOrigin(%q) = %q, %q, %v; want %q, %q, true", tc.in, r, at, ok, tc.region, tc.at)
			}
		})
	}
	for _, tc := range []struct{ name, in string }{
		{"suffix attack", "https://sellercentral.amazon.co.uk.evil.com"},
		{"http", "http://sellercentral.amazon.co.uk"},
		{"port", "https://sellercentral.amazon.co.uk:8443"},
		{"default port spelled out", "https://sellercentral.amazon.de:443"},
		{"trailing slash", "https://sellercentral.amazon.fr/"},
		{"userinfo", "https://evil.com@sellercentral.amazon.co.uk"},
		{"prefix attack", "https://xsellercentral.amazon.de"},
		{"subdomain", "https://x.sellercentral.amazon.it"},
		{"trailing dot", "https://sellercentral.amazon.es."},
		{"other country not listed", "https://sellercentral.amazon.at"},
		{"GB spelling", "https://sellercentral.amazon.gb"},
		{"hyphen instead of dot", "https://sellercentral-amazon.de"},
		{"Europe on a country domain", "https://sellercentral-europe.amazon.de"},
		{"Kelvin sign", "https://sellercentral.amazon.co.u\u212a"},
		{"host only", "sellercentral.amazon.co.uk"},
		{"vendor Central lookalike", "https://vendorcentral.amazon.co.uk.evil.com"},
	} {
		t.Run("unknown/"+tc.name, func(t *testing.T) {
			if r, at, ok := LookupOrigin(tc.in); ok {
				t.Fatalf("LookupOrigin(%q) = %q, %q, true; want not found", tc.in, r, at)
			}
		})
	}
}

func TestResolveCallbackURICountryHosts(t *testing.T) {
	for _, tc := range []struct {
		name, raw, base, want string
		region                Region
		at                    AccountType
	}{
		{"UK confirm", "https://sellercentral.amazon.co.uk/apps/authorize/confirm/x", "", "https://sellercentral.amazon.co.uk/apps/authorize/confirm/x", RegionEU, Seller},
		{"DE confirm", "https://sellercentral.amazon.de" + confirm, usSeller, "https://sellercentral.amazon.de" + confirm, RegionEU, Seller},
		{"FR with query", "https://sellercentral.amazon.fr" + confirm + "?a=1", "", "https://sellercentral.amazon.fr" + confirm + "?a=1", RegionEU, Seller},
		{"IT relative", confirm, "https://sellercentral.amazon.it", "https://sellercentral.amazon.it" + confirm, RegionEU, Seller},
		{"ES default port dropped", "https://sellercentral.amazon.es:443" + confirm, "", "https://sellercentral.amazon.es" + confirm, RegionEU, Seller},
		{"UK upper-case host lowered", "https://SellerCentral.Amazon.CO.UK" + confirm, "", "https://sellercentral.amazon.co.uk" + confirm, RegionEU, Seller},
		{"UK relative against upper-case base", confirm, "HTTPS://SELLERCENTRAL.AMAZON.CO.UK/", "https://sellercentral.amazon.co.uk" + confirm, RegionEU, Seller},
		{"UK under the sandbox override", "https://sellercentral.amazon.co.uk" + confirm, sandbox, "https://sellercentral.amazon.co.uk" + confirm, RegionEU, Seller},
	} {
		t.Run(tc.name, func(t *testing.T) {
			override := ""
			if tc.base == sandbox {
				override = sandbox
			}
			u, err := ResolveCallbackURI(tc.raw, tc.base, override)
			if err != nil {
				t.Fatalf("ResolveCallbackURI(%q, %q): %v", tc.raw, tc.base, err)
			}
			if got := u.String(); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			checkTrusted(t, u, override)
			r, at, ok := LookupOrigin(u.Scheme + "://" + u.Host)
			if !ok || r != tc.region || at != tc.at {
				t.Fatalf("LookupOrigin(%q) = %q, %q, %v; want %q, %q, true", u.Scheme+"://"+u.Host, r, at, ok, tc.region, tc.at)
			}
		})
	}
	for _, tc := range []struct{ name, raw, base string }{
		{"suffix attack", "https://sellercentral.amazon.co.uk.evil.com" + confirm, ""},
		{"http", "http://sellercentral.amazon.co.uk" + confirm, ""},
		{"non-default port", "https://sellercentral.amazon.co.uk:8443" + confirm, ""},
		{"userinfo before the host", "https://evil.com@sellercentral.amazon.co.uk" + confirm, ""},
		{"host as userinfo", "https://sellercentral.amazon.co.uk@evil.com" + confirm, ""},
		{"prefix attack", "https://xsellercentral.amazon.de" + confirm, ""},
		{"subdomain", "https://a.sellercentral.amazon.fr" + confirm, ""},
		{"trailing dot", "https://sellercentral.amazon.it." + confirm, ""},
		{"unlisted country", "https://sellercentral.amazon.at" + confirm, ""},
		{"escaped dot", "https://sellercentral%2Eamazon.es" + confirm, ""},
		{"protocol-relative", "//sellercentral.amazon.co.uk" + confirm, "https://sellercentral.amazon.co.uk"},
		{"relative against http base", confirm, "http://sellercentral.amazon.co.uk"},
		{"relative against port base", confirm, "https://sellercentral.amazon.de:8443"},
		{"relative against lookalike base", confirm, "https://sellercentral.amazon.de.evil.com"},
	} {
		t.Run("refused/"+tc.name, func(t *testing.T) {
			if u, err := ResolveCallbackURI(tc.raw, tc.base, ""); !errors.Is(err, ErrUntrustedCallback) || u != nil {
				t.Fatalf("ResolveCallbackURI(%q, %q) = %v, %v; want ErrUntrustedCallback", tc.raw, tc.base, u, err)
			}
		})
	}
}
