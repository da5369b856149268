package amazon

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// amazonMD is the marketplace table of docs/amazon.md, pasted verbatim so that a diff against
// the document shows any drift. The code's table is checked against it, not against itself.
const amazonMD = `
| US | ATVPDKIKX0DER | https://sellercentral.amazon.com | https://vendorcentral.amazon.com |
| CA | A2EUQ1WTGCTBG2 | https://sellercentral.amazon.ca | https://vendorcentral.amazon.ca |
| MX | A1AM78C64UM0Y8 | https://sellercentral.amazon.com.mx | https://vendorcentral.amazon.com.mx |
| BR | A2Q3Y263D00KWC | https://sellercentral.amazon.com.br | https://vendorcentral.amazon.com.br |
| UK | A1F83G8C2ARO7P | https://sellercentral-europe.amazon.com | https://vendorcentral.amazon.co.uk |
| DE | A1PA6795UKMFR9 | https://sellercentral-europe.amazon.com | https://vendorcentral.amazon.de |
| FR | A13V1IB3VIYZZH | https://sellercentral-europe.amazon.com | https://vendorcentral.amazon.fr |
| IT | APJ6JRA9NG5V4 | https://sellercentral-europe.amazon.com | https://vendorcentral.amazon.it |
| ES | A1RKKUPIHCS9HS | https://sellercentral-europe.amazon.com | https://vendorcentral.amazon.es |
| NL | A1805IZSGTT6HS | https://sellercentral.amazon.nl | https://vendorcentral.amazon.nl |
| SE | A2NODRKZP88ZB9 | https://sellercentral.amazon.se | https://vendorcentral.amazon.se |
| PL | A1C3SOZRARQ6R3 | https://sellercentral.amazon.pl | https://vendorcentral.amazon.pl |
| BE | AMEN7PMS3EDWL | https://sellercentral.amazon.com.be | https://vendorcentral.amazon.com.be |
| TR | A33AVAJ2PDY3EV | https://sellercentral.amazon.com.tr | https://vendorcentral.amazon.com.tr |
| IE | A28R8C7NBKEWEA | https://sellercentral.amazon.ie | (none listed) |
| ZA | AE08WJ6YKNBMC | https://sellercentral.amazon.co.za | (none listed) |
| EG | ARBP9OOSHTCHU | https://sellercentral.amazon.eg | https://vendorcentral.amazon.me |
| SA | A17E79C6D8DWNP | https://sellercentral.amazon.sa | https://vendorcentral.amazon.me |
| AE | A2VIGQ35RCS4UG | https://sellercentral.amazon.ae | https://vendorcentral.amazon.me |
| IN | A21TJRUUN4KGV | https://sellercentral.amazon.in | https://www.vendorcentral.in |
| JP | A1VC38T7YXB528 | https://sellercentral.amazon.co.jp | https://vendorcentral.amazon.co.jp |
| AU | A39IBJ37TRP1C6 | https://sellercentral.amazon.com.au | https://vendorcentral.amazon.com.au |
| SG | A19VAU5U5O7RUS | https://sellercentral.amazon.sg | https://vendorcentral.amazon.com.sg |
`

// amazonMDRegions is the region table of docs/amazon.md.
var amazonMDRegions = map[Region]string{
	RegionNA: "US, CA, MX, BR",
	RegionEU: "UK, DE, FR, IT, ES, NL, SE, PL, BE, TR, IE, ZA, EG, SA, AE, IN",
	RegionFE: "JP, AU, SG",
}

// wantMarketplaces parses amazonMD and amazonMDRegions into the table the code must hold.
func wantMarketplaces(t *testing.T) []Marketplace {
	t.Helper()
	regionOf := map[string]Region{}
	for r, codes := range amazonMDRegions {
		for _, c := range strings.Split(codes, ", ") {
			regionOf[c] = r
		}
	}
	var want []Marketplace
	for _, line := range strings.Split(strings.TrimSpace(amazonMD), "\n") {
		f := strings.Split(strings.Trim(line, "| "), " | ")
		if len(f) != 4 {
			t.Fatalf("bad table line %q", line)
		}
		vendor := f[3]
		if vendor == "(none listed)" {
			vendor = ""
		}
		want = append(want, Marketplace{Code: f[0], ID: f[1], Region: regionOf[f[0]], SellerCentral: f[2], VendorCentral: vendor})
	}
	return want
}

func TestMarketplacesMatchAmazonMD(t *testing.T) {
	want := wantMarketplaces(t)
	got := Marketplaces()
	if len(got) != 23 || len(want) != 23 {
		t.Fatalf("got %d marketplaces, the document has %d; want 23", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func TestMarketplacesIsAFreshCopy(t *testing.T) {
	a := Marketplaces()
	a[0].SellerCentral = "https://evil.example"
	copy(a[1:], a[2:]) // what deleting an element does to the backing array
	b := Marketplaces()
	if b[0].SellerCentral != "https://sellercentral.amazon.com" || len(b) != 23 || b[1].Code != "CA" {
		t.Fatal("editing the result of Marketplaces changed the table")
	}
	if m, _ := LookupMarketplace("US"); m.SellerCentral != "https://sellercentral.amazon.com" {
		t.Fatal("editing the result of Marketplaces changed LookupMarketplace")
	}
}

func TestMarketplacesTableInvariants(t *testing.T) {
	codes, ids := map[string]bool{}, map[string]bool{}
	for _, m := range Marketplaces() {
		if codes[m.Code] || ids[m.ID] {
			t.Errorf("%s: duplicate code or ID", m.Code)
		}
		codes[m.Code], ids[m.ID] = true, true
		if !m.Region.Valid() {
			t.Errorf("%s: invalid region %q", m.Code, m.Region)
		}
		origins := []string{m.SellerCentral}
		if m.VendorCentral != "" {
			origins = append(origins, m.VendorCentral)
		}
		for _, o := range origins {
			// ResolveCallbackURI and LookupOrigin compare verbatim against these.
			if _, err := parseOrigin(o); err != nil || strings.ToLower(o) != o || !strings.HasPrefix(o, "https://") || strings.HasSuffix(o, "/") {
				t.Errorf("%s: origin %q is not a lower-case https origin without a slash", m.Code, o)
			}
		}
	}
}

func TestLookupMarketplace(t *testing.T) {
	for _, m := range Marketplaces() {
		for name, key := range map[string]string{"code": m.Code, "lower code": strings.ToLower(m.Code), "ID": m.ID} {
			t.Run(m.Code+"/"+name, func(t *testing.T) {
				got, ok := LookupMarketplace(key)
				if !ok || got != m {
					t.Fatalf("LookupMarketplace(%q) = %+v, %v; want %+v", key, got, ok, m)
				}
			})
		}
	}
	for _, tc := range []struct{ name, in string }{
		{"empty", ""},
		{"unknown code", "XX"},
		{"GB is not in the table", "GB"},
		{"lower-case ID", "atvpdkikx0der"},
		{"ID prefix", "ATVPDKIKX0DE"},
		{"code with space", " US"},
		{"code with newline", "US\n"},
		{"unicode long s folds to s", "Uſ"},
		{"region", "na"},
		{"origin", "https://sellercentral.amazon.com"},
	} {
		t.Run("unknown/"+tc.name, func(t *testing.T) {
			if m, ok := LookupMarketplace(tc.in); ok {
				t.Fatalf("LookupMarketplace(%q) = %+v, want not found", tc.in, m)
			}
		})
	}
}

func TestMarketplaceOrigin(t *testing.T) {
	for _, m := range Marketplaces() {
		t.Run(m.Code, func(t *testing.T) {
			got, err := m.Origin(Seller)
			if err != nil || got != m.SellerCentral {
				t.Errorf("Origin(Seller) = %q, %v; want %q", got, err, m.SellerCentral)
			}
			got, err = m.Origin(Vendor)
			switch {
			case m.Code == "IE" || m.Code == "ZA":
				if !errors.Is(err, ErrNoVendorCentral) || got != "" {
					t.Errorf("Origin(Vendor) = %q, %v; want ErrNoVendorCentral", got, err)
				}
			case err != nil || got != m.VendorCentral || got == "":
				t.Errorf("Origin(Vendor) = %q, %v; want %q", got, err, m.VendorCentral)
			}
			for _, bad := range []AccountType{"", "Seller", "admin"} {
				if _, err := m.Origin(bad); !errors.Is(err, ErrUnknownAccountType) {
					t.Errorf("Origin(%q) error = %v, want ErrUnknownAccountType", bad, err)
				}
			}
		})
	}
	us, _ := LookupMarketplace("US")
	forged := us
	forged.SellerCentral = "https://evil.example"
	for _, tc := range []struct {
		name string
		m    Marketplace
	}{
		{"zero value", Marketplace{}},
		{"forged origin", forged},
		{"code only", Marketplace{Code: "US"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if o, err := tc.m.Origin(Seller); !errors.Is(err, ErrUnknownMarketplace) {
				t.Fatalf("Origin = %q, %v; want ErrUnknownMarketplace", o, err)
			}
		})
	}
}

func TestParseAccountType(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want AccountType
		err  error
	}{
		{"empty means seller", "", Seller, nil},
		{"seller", "seller", Seller, nil},
		{"Seller", "Seller", Seller, nil},
		{"SELLER", "SELLER", Seller, nil},
		{"vendor", "vendor", Vendor, nil},
		{"VeNdOr", "VeNdOr", Vendor, nil},
		{"unknown", "admin", "", ErrUnknownAccountType},
		{"leading space", " seller", "", ErrUnknownAccountType},
		{"trailing newline", "vendor\n", "", ErrUnknownAccountType},
		{"plural", "sellers", "", ErrUnknownAccountType},
		{"unicode long s", "ſeller", "", ErrUnknownAccountType},
		{"region", "na", "", ErrUnknownAccountType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAccountType(tc.in)
			if got != tc.want || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("ParseAccountType(%q) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.err)
			}
		})
	}
}

func TestRegionValid(t *testing.T) {
	for _, tc := range []struct {
		r    Region
		want bool
	}{
		{RegionNA, true}, {RegionEU, true}, {RegionFE, true},
		{"", false}, {"NA", false}, {"us", false}, {"eu ", false}, {"us-east-1", false},
	} {
		t.Run(string(tc.r), func(t *testing.T) {
			if got := tc.r.Valid(); got != tc.want {
				t.Fatalf("Region(%q).Valid() = %v, want %v", tc.r, got, tc.want)
			}
		})
	}
}

// allOrigins lists every distinct origin of the table with the region and account type of the
// rows that name it, collecting conflicts instead of hiding them.
func allOrigins() map[string][]struct {
	r Region
	t AccountType
} {
	out := map[string][]struct {
		r Region
		t AccountType
	}{}
	add := func(o string, r Region, t AccountType) {
		if o == "" {
			return
		}
		e := struct {
			r Region
			t AccountType
		}{r, t}
		if !slices.Contains(out[o], e) {
			out[o] = append(out[o], e)
		}
	}
	for _, m := range Marketplaces() {
		add(m.SellerCentral, m.Region, Seller)
		add(m.VendorCentral, m.Region, Vendor)
	}
	return out
}

func TestEveryOriginBelongsToOneRegion(t *testing.T) {
	origins := allOrigins()
	// 19 distinct Seller Central origins (five EU marketplaces share one) and 19 distinct Vendor
	// Central origins (EG, SA and AE share one; IE and ZA have none).
	if len(origins) != 38 {
		t.Errorf("got %d distinct origins, want 38", len(origins))
	}
	for o, uses := range origins {
		if len(uses) != 1 {
			t.Errorf("origin %s is used by more than one region or account type: %v", o, uses)
		}
	}
}

func TestLookupOrigin(t *testing.T) {
	// Every table origin and every country host (wantAccepted, accepted_test.go).
	for o, want := range wantAccepted {
		for name, in := range map[string]string{"exact": o, "upper case": strings.ToUpper(o)} {
			t.Run(o+"/"+name, func(t *testing.T) {
				r, at, ok := LookupOrigin(in)
				if !ok || r != want.region || at != want.accountType {
					t.Fatalf("LookupOrigin(%q) = %q, %q, %v; want %q, %q, true", in, r, at, ok, want.region, want.accountType)
				}
			})
		}
	}
	for o, uses := range allOrigins() {
		if w := wantAccepted[o]; len(uses) != 1 || w.region != uses[0].r || w.accountType != uses[0].t {
			t.Errorf("table origin %s: the test's expectation %v disagrees with the table %v", o, w, uses)
		}
	}
	for _, tc := range []struct{ name, in string }{
		{"empty", ""},
		{"http", "http://sellercentral.amazon.com"},
		{"trailing slash", "https://sellercentral.amazon.com/"},
		{"path", "https://sellercentral.amazon.com/apps"},
		{"port", "https://sellercentral.amazon.com:443"},
		{"host only", "sellercentral.amazon.com"},
		{"suffix attack", "https://sellercentral.amazon.com.evil.com"},
		{"prefix attack", "https://evilsellercentral.amazon.com"},
		{"subdomain", "https://x.sellercentral.amazon.com"},
		{"trailing dot", "https://sellercentral.amazon.com."},
		{"amazon.com", "https://www.amazon.com"},
		{"unicode long s", "https://ſellercentral.amazon.com"},
		{"userinfo", "https://sellercentral.amazon.com@evil.com"},
		{"api host", "https://sellingpartnerapi-na.amazon.com"},
	} {
		t.Run("unknown/"+tc.name, func(t *testing.T) {
			if r, at, ok := LookupOrigin(tc.in); ok {
				t.Fatalf("LookupOrigin(%q) = %q, %q, true; want not found", tc.in, r, at)
			}
		})
	}
}
