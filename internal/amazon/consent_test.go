package amazon

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

const testAppID = "amzn1.sp.solution.1234abcd-0000-1111-2222-333344445555"

// checkConsentURL asserts everything a consent URL must be: the origin, the path, and exactly the
// expected query parameters, each once, in the documented order.
func checkConsentURL(t *testing.T, raw, wantOrigin string, c Consent, state string) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("consent URL %q does not parse: %v", raw, err)
	}
	if got := u.Scheme + "://" + u.Host; got != wantOrigin {
		t.Errorf("origin = %q, want %q", got, wantOrigin)
	}
	if u.Path != "/apps/authorize/consent" || u.User != nil || u.Fragment != "" {
		t.Errorf("URL %q: want path /apps/authorize/consent and no userinfo or fragment", raw)
	}
	want := url.Values{"application_id": {c.ApplicationID}, "state": {state}}
	order := []string{"application_id=", "state="}
	if c.RedirectURI != "" {
		want.Set("redirect_uri", c.RedirectURI)
		order = append(order, "redirect_uri=")
	}
	if c.Draft {
		want.Set("version", "beta")
		order = append(order, "version=beta")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		t.Fatalf("query of %q does not parse: %v", raw, err)
	}
	if len(q) != len(want) {
		t.Errorf("query keys = %v, want %v", q, want)
	}
	for k, v := range want {
		if got := q[k]; len(got) != 1 || got[0] != v[0] {
			t.Errorf("%s = %q, want exactly [%q]", k, got, v[0])
		}
	}
	if _, ok := q["version"]; ok != c.Draft {
		t.Errorf("version present = %v, want %v (Draft)", ok, c.Draft)
	}
	if _, ok := q["redirect_uri"]; ok != (c.RedirectURI != "") {
		t.Errorf("redirect_uri present = %v, want %v", ok, c.RedirectURI != "")
	}
	parts := strings.Split(u.RawQuery, "&")
	if len(parts) != len(order) {
		t.Fatalf("raw query %q has %d parts, want %d", u.RawQuery, len(parts), len(order))
	}
	for i, p := range parts {
		if !strings.HasPrefix(p, order[i]) {
			t.Errorf("query part %d = %q, want it to start with %q", i, p, order[i])
		}
	}
}

func TestConsentURLEveryMarketplace(t *testing.T) {
	configs := []struct {
		name string
		c    Consent
	}{
		{"published", Consent{ApplicationID: testAppID}},
		{"draft", Consent{ApplicationID: testAppID, Draft: true}},
		{"redirect", Consent{ApplicationID: testAppID, RedirectURI: "https://auth.example.com/callback"}},
		{"draft+redirect", Consent{ApplicationID: testAppID, RedirectURI: "https://auth.example.com/callback", Draft: true}},
		{"sellerapps ID", Consent{ApplicationID: "amzn1.sellerapps.app.0a1b2c3d-4e5f"}},
	}
	const state = "Zm9vYmFyYmF6LXN0YXRlLXZhbHVlLTEyMzQ1Ng"
	for _, m := range Marketplaces() {
		for _, at := range []AccountType{Seller, Vendor} {
			wantOrigin := m.SellerCentral
			if at == Vendor {
				wantOrigin = m.VendorCentral
			}
			for _, key := range []string{m.Code, m.ID} {
				for _, cfg := range configs {
					t.Run(m.Code+"/"+string(at)+"/"+key+"/"+cfg.name, func(t *testing.T) {
						looked, ok := LookupMarketplace(key)
						if !ok {
							t.Fatalf("LookupMarketplace(%q) failed", key)
						}
						got, err := cfg.c.URL(looked, at, state)
						if wantOrigin == "" {
							if !errors.Is(err, ErrNoVendorCentral) || got != "" {
								t.Fatalf("URL = %q, %v; want ErrNoVendorCentral", got, err)
							}
							return
						}
						if err != nil {
							t.Fatalf("URL: %v", err)
						}
						checkConsentURL(t, got, wantOrigin, cfg.c, state)
					})
				}
			}
		}
	}
}

func TestConsentURLEscaping(t *testing.T) {
	us, _ := LookupMarketplace("US")
	for _, tc := range []struct {
		name    string
		c       Consent
		state   string
		wantRaw []string // substrings of the raw query
	}{
		{
			name:    "state with reserved characters",
			c:       Consent{ApplicationID: testAppID},
			state:   "a+b/c=d&e f?g#h%i",
			wantRaw: []string{"&state=a%2Bb%2Fc%3Dd%26e+f%3Fg%23h%25i"},
		},
		{
			name:    "redirect URI with a query",
			c:       Consent{ApplicationID: testAppID, RedirectURI: "https://auth.example.com/cb?x=1&y=2"},
			state:   "s",
			wantRaw: []string{"&redirect_uri=https%3A%2F%2Fauth.example.com%2Fcb%3Fx%3D1%26y%3D2"},
		},
		{
			name:    "redirect URI with a port and a path",
			c:       Consent{ApplicationID: testAppID, RedirectURI: "http://127.0.0.1:3000/callback", Draft: true},
			state:   "s",
			wantRaw: []string{"&redirect_uri=http%3A%2F%2F127.0.0.1%3A3000%2Fcallback&version=beta"},
		},
		{
			name:    "application ID is escaped too",
			c:       Consent{ApplicationID: "amzn1.sp.solution.a&b=c"},
			state:   "s",
			wantRaw: []string{"?application_id=amzn1.sp.solution.a%26b%3Dc&state=s"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.c.URL(us, Seller, tc.state)
			if err != nil {
				t.Fatalf("URL: %v", err)
			}
			checkConsentURL(t, got, us.SellerCentral, tc.c, tc.state)
			for _, s := range tc.wantRaw {
				if !strings.Contains(got, s) {
					t.Errorf("URL %q does not contain %q", got, s)
				}
			}
		})
	}
}

func TestConsentURLOriginOverride(t *testing.T) {
	for _, tc := range []struct {
		name, override, want string
	}{
		{"sandbox", "http://127.0.0.1:9000", "http://127.0.0.1:9000"},
		{"trailing slash", "http://127.0.0.1:9000/", "http://127.0.0.1:9000"},
		{"case is normalized", "HTTP://LocalHost:9000", "http://localhost:9000"},
		{"default port dropped", "https://sandbox.example:443", "https://sandbox.example"},
		{"https without port", "https://sandbox.example", "https://sandbox.example"},
	} {
		for _, m := range Marketplaces() {
			for _, at := range []AccountType{Seller, Vendor} {
				if at == Vendor && m.VendorCentral == "" {
					continue
				}
				t.Run(tc.name+"/"+m.Code+"/"+string(at), func(t *testing.T) {
					c := Consent{ApplicationID: testAppID, Draft: true, OriginOverride: tc.override}
					got, err := c.URL(m, at, "st")
					if err != nil {
						t.Fatalf("URL: %v", err)
					}
					checkConsentURL(t, got, tc.want, c, "st")
				})
			}
		}
	}
}

func TestConsentURLErrors(t *testing.T) {
	us, _ := LookupMarketplace("US")
	ie, _ := LookupMarketplace("IE")
	za, _ := LookupMarketplace("za")
	forged := us
	forged.VendorCentral = "https://evil.example"
	ok := Consent{ApplicationID: testAppID}
	for _, tc := range []struct {
		name  string
		c     Consent
		m     Marketplace
		at    AccountType
		state string
		is    error // nil: any error
	}{
		{"vendor IE", ok, ie, Vendor, "s", ErrNoVendorCentral},
		{"vendor ZA", ok, za, Vendor, "s", ErrNoVendorCentral},
		{"vendor IE under override", Consent{ApplicationID: testAppID, OriginOverride: "http://127.0.0.1:9000"}, ie, Vendor, "s", ErrNoVendorCentral},
		{"unknown marketplace", ok, Marketplace{}, Seller, "s", ErrUnknownMarketplace},
		{"forged marketplace", ok, forged, Vendor, "s", ErrUnknownMarketplace},
		{"unknown account type", ok, us, "buyer", "s", ErrUnknownAccountType},
		{"empty account type", ok, us, "", "s", ErrUnknownAccountType},
		{"empty application ID", Consent{}, us, Seller, "s", nil},
		{"empty state", ok, us, Seller, "", nil},
		{"redirect URI with fragment", Consent{ApplicationID: testAppID, RedirectURI: "https://a.example/cb#x"}, us, Seller, "s", nil},
		{"relative redirect URI", Consent{ApplicationID: testAppID, RedirectURI: "/callback"}, us, Seller, "s", nil},
		{"override without scheme", Consent{ApplicationID: testAppID, OriginOverride: "127.0.0.1:9000"}, us, Seller, "s", nil},
		{"override with path", Consent{ApplicationID: testAppID, OriginOverride: "http://127.0.0.1:9000/amazon"}, us, Seller, "s", nil},
		{"override with query", Consent{ApplicationID: testAppID, OriginOverride: "http://127.0.0.1:9000?x"}, us, Seller, "s", nil},
		{"override ftp", Consent{ApplicationID: testAppID, OriginOverride: "ftp://127.0.0.1"}, us, Seller, "s", nil},
		{"override userinfo", Consent{ApplicationID: testAppID, OriginOverride: "http://a@127.0.0.1"}, us, Seller, "s", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.c.URL(tc.m, tc.at, tc.state)
			if err == nil || got != "" {
				t.Fatalf("URL = %q, %v; want an error", got, err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("error %v is not %v", err, tc.is)
			}
		})
	}
}

func TestCheckRedirectURI(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		ok       bool
	}{
		{"empty means unset", "", true},
		{"https", "https://auth.example.com/callback", true},
		{"with query", "https://auth.example.com/callback?x=1", true},
		{"http for local use", "http://127.0.0.1:3000/callback", true},
		{"http on localhost", "http://LocalHost:3000/callback", true},
		{"http on IPv6 loopback", "http://[::1]:3000/callback", true},
		{"http elsewhere", "http://auth.example.com/callback", false},
		{"http on a name that starts like localhost", "http://localhost.example.com/callback", false},
		{"upper-case HTTPS", "HTTPS://auth.example.com/callback", true},
		{"fragment", "https://auth.example.com/callback#x", false},
		{"empty fragment", "https://auth.example.com/callback#", false},
		{"relative", "/callback", false},
		{"no path", "https://auth.example.com", true},
		{"userinfo", "https://u:p@auth.example.com/callback", false},
		{"other scheme", "ftp://auth.example.com/callback", false},
		{"trailing newline", "https://auth.example.com/callback\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := CheckRedirectURI(tc.in); (err == nil) != tc.ok {
				t.Fatalf("CheckRedirectURI(%q) = %v, want ok=%v", tc.in, err, tc.ok)
			}
		})
	}
}

func TestCheckOriginOverride(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		ok       bool
	}{
		{"empty means none", "", true},
		{"sandbox", "http://127.0.0.1:9000", true},
		{"trailing slash", "http://localhost:9000/", true},
		{"https", "https://sandbox.example", true},
		{"no scheme", "localhost:9000", false},
		{"path", "http://localhost:9000/x", false},
		{"fragment", "http://localhost:9000#", false},
		{"javascript", "javascript:alert(1)", false},
		{"space", "http://localhost:9000 ", false},
		{"empty port", "http://localhost:", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := CheckOriginOverride(tc.in); (err == nil) != tc.ok {
				t.Fatalf("CheckOriginOverride(%q) = %v, want ok=%v", tc.in, err, tc.ok)
			}
		})
	}
}
