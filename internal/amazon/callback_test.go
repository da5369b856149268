package amazon

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
)

const (
	usSeller = "https://sellercentral.amazon.com"
	ukSeller = "https://sellercentral.amazon.co.uk"
	sandbox  = "http://127.0.0.1:9000"
	confirm  = "/apps/authorize/confirm/amzn1.sp.solution.x"
)

// checkTrusted fails unless u, as a browser would read its String form, leads to a Seller/Vendor
// Central origin over https on the default port, or exactly to the override origin.
func checkTrusted(t *testing.T, u *url.URL, override string) {
	t.Helper()
	if u == nil {
		t.Fatal("accepted with a nil URL")
	}
	s := u.String()
	back, err := url.Parse(s)
	if err != nil {
		t.Fatalf("accepted URL %q does not parse back: %v", s, err)
	}
	if back.User != nil || back.Fragment != "" || back.Opaque != "" || strings.ContainsAny(s, "\\\t\r\n #") {
		t.Fatalf("accepted URL %q has userinfo, a fragment, an opaque part or a dangerous character", s)
	}
	if strings.HasPrefix(back.EscapedPath(), "//") {
		t.Fatalf("accepted URL %q has a path starting with //", s)
	}
	got := back.Scheme + "://" + back.Host
	if override != "" {
		if want, err := parseOrigin(override); err == nil && got == want.String() {
			return
		}
	}
	if back.Scheme != "https" || back.Port() != "" {
		t.Fatalf("accepted URL %q is not https on the default port", s)
	}
	// Whatever is accepted is in the list: the test's own copy of it (the table plus the country
	// hosts) and AcceptedOrigins, and LookupOrigin maps it to the region and account type the
	// test expects.
	want, inList := wantAccepted[got]
	if !inList || !slices.Contains(AcceptedOrigins(), got) {
		t.Fatalf("accepted URL %q has origin %q, which is not a Seller/Vendor Central origin", s, got)
	}
	if r, at, ok := LookupOrigin(got); !ok || r != want.region || at != want.accountType {
		t.Fatalf("accepted URL %q: LookupOrigin(%q) = %q, %q, %v; want %q, %q", s, got, r, at, ok, want.region, want.accountType)
	}
}

type callbackCase struct {
	name, raw, base, override string
	want                      string // accepted cases only
}

var acceptedCallbacks = []callbackCase{
	{"relative confirm path", confirm, usSeller, "", usSeller + confirm},
	{"relative with query", confirm + "?a=1&b=x%20y", usSeller, "", usSeller + confirm + "?a=1&b=x%20y"},
	{"relative against Europe", confirm, "https://sellercentral-europe.amazon.com", "", "https://sellercentral-europe.amazon.com" + confirm},
	{"relative against Vendor Central", confirm, "https://vendorcentral.amazon.co.jp", "", "https://vendorcentral.amazon.co.jp" + confirm},
	{"relative against India Vendor Central", confirm, "https://www.vendorcentral.in", "", "https://www.vendorcentral.in" + confirm},
	{"relative against upper-case base", confirm, "HTTPS://SellerCentral.Amazon.com", "", usSeller + confirm},
	{"relative against base with slash", confirm, usSeller + "/", "", usSeller + confirm},
	{"relative root", "/", usSeller, "", usSeller + "/"},
	{"absolute", usSeller + confirm, "", "", usSeller + confirm},
	{"absolute other Amazon origin than base", "https://sellercentral.amazon.co.jp" + confirm, usSeller, "", "https://sellercentral.amazon.co.jp" + confirm},
	{"explicit default port dropped", "https://sellercentral.amazon.com:443" + confirm, "", "", usSeller + confirm},
	{"upper-case host lowered", "https://SELLERCENTRAL.AMAZON.COM" + confirm, "", "", usSeller + confirm},
	{"upper-case scheme lowered", "HTTPS://sellercentral.amazon.com" + confirm, "", "", usSeller + confirm},
	{"no path", usSeller, "", "", usSeller},
	{"query only", usSeller + "?x=1", "", "", usSeller + "?x=1"},
	{"escaped path kept", "/apps/authorize/confirm/a%2Fb%20c", usSeller, "", usSeller + "/apps/authorize/confirm/a%2Fb%20c"},
	{"escaped hash in path is not a fragment", "/apps/x%23y", usSeller, "", usSeller + "/apps/x%23y"},
	{"at sign in path is not userinfo", usSeller + "/x@evil.example", "", "", usSeller + "/x@evil.example"},
	{"dot segments stay on the host", "/apps/../../x", usSeller, "", usSeller + "/apps/../../x"},
	{"override relative", confirm, sandbox, sandbox, sandbox + confirm},
	{"override absolute", sandbox + confirm + "?amazon_state=a", "", sandbox, sandbox + confirm + "?amazon_state=a"},
	{"override still accepts Amazon", usSeller + confirm, sandbox, sandbox, usSeller + confirm},
	{"override with trailing slash", sandbox + confirm, "", sandbox + "/", sandbox + confirm},
	{"override default port", "http://localhost:80" + confirm, "", "http://localhost", "http://localhost" + confirm},
	{"override localhost case", "http://LOCALHOST:9000/x", "", "http://localhost:9000", "http://localhost:9000/x"},
	{"UK country host absolute", ukSeller + confirm, "", "", ukSeller + confirm},
	{"UK country host relative", confirm, ukSeller, "", ukSeller + confirm},
	{"DE country host against other base", "https://sellercentral.amazon.de" + confirm, usSeller, "", "https://sellercentral.amazon.de" + confirm},
	{"FR country host upper case", "HTTPS://SELLERCENTRAL.AMAZON.FR" + confirm, "", "", "https://sellercentral.amazon.fr" + confirm},
	{"IT country host default port", "https://sellercentral.amazon.it:443" + confirm, "", "", "https://sellercentral.amazon.it" + confirm},
	{"ES country host under override", "https://sellercentral.amazon.es" + confirm, sandbox, sandbox, "https://sellercentral.amazon.es" + confirm},
	{"exactly 2048 bytes", "/" + strings.Repeat("a", 2047), usSeller, "", usSeller + "/" + strings.Repeat("a", 2047)},
}

var refusedCallbacks = []callbackCase{
	{name: "empty", raw: "", base: usSeller},
	{name: "protocol-relative", raw: "//evil.example", base: usSeller},
	{name: "protocol-relative with path", raw: "//evil.example/apps/authorize/confirm/x", base: usSeller},
	{name: "protocol-relative Amazon-looking", raw: "//sellercentral.amazon.com.evil.example/", base: usSeller},
	{name: "triple slash", raw: "///evil.example", base: usSeller},
	{name: "slash backslash", raw: "/\\evil.example", base: usSeller},
	{name: "double backslash", raw: "\\\\evil.example", base: usSeller},
	{name: "slash backslash slash", raw: "/\\/evil.example", base: usSeller},
	{name: "backslash slash", raw: "\\/evil.example", base: usSeller},
	{name: "https backslashes", raw: "https:\\\\evil.example", base: usSeller},
	{name: "https backslashes Amazon", raw: "https:\\\\sellercentral.amazon.com/x", base: usSeller},
	{name: "https slash backslash", raw: "https:/\\evil.example", base: usSeller},
	{name: "backslash before at", raw: "https://sellercentral.amazon.com\\@evil.example/", base: usSeller},
	{name: "backslash in path", raw: "/apps\\x", base: usSeller},
	{name: "javascript", raw: "javascript:alert(1)", base: usSeller},
	{name: "javascript with slashes", raw: "javascript://sellercentral.amazon.com/%0aalert(1)", base: usSeller},
	{name: "JavaScript upper case", raw: "JavaScript:alert(1)", base: usSeller},
	{name: "data", raw: "data:text/html,<script>alert(1)</script>", base: usSeller},
	{name: "vbscript", raw: "vbscript:msgbox(1)", base: usSeller},
	{name: "ftp", raw: "ftp://sellercentral.amazon.com/", base: usSeller},
	{name: "http Amazon", raw: "http://sellercentral.amazon.com" + confirm, base: usSeller},
	{name: "suffix host", raw: "https://sellercentral.amazon.com.evil.example" + confirm, base: usSeller},
	{name: "host in path", raw: "https://evil.example/sellercentral.amazon.com", base: usSeller},
	{name: "host in query", raw: "https://evil.example?sellercentral.amazon.com", base: usSeller},
	{name: "host in fragment", raw: "https://evil.example#sellercentral.amazon.com", base: usSeller},
	{name: "prefix host", raw: "https://evilsellercentral.amazon.com/", base: usSeller},
	{name: "subdomain", raw: "https://x.sellercentral.amazon.com/", base: usSeller},
	{name: "hyphen lookalike", raw: "https://sellercentral-amazon.com/", base: usSeller},
	{name: "plain amazon.com", raw: "https://www.amazon.com/", base: usSeller},
	{name: "trailing dot", raw: "https://sellercentral.amazon.com./x", base: usSeller},
	{name: "userinfo host", raw: "https://sellercentral.amazon.com@evil.example/", base: usSeller},
	{name: "userinfo with password", raw: "https://sellercentral.amazon.com:pw@evil.example/", base: usSeller},
	{name: "userinfo on Amazon", raw: "https://user:pass@sellercentral.amazon.com/", base: usSeller},
	{name: "empty userinfo", raw: "https://@sellercentral.amazon.com/", base: usSeller},
	{name: "escaped at", raw: "https://sellercentral.amazon.com%40evil.example/", base: usSeller},
	{name: "escaped dot in host", raw: "https://sellercentral%2Eamazon.com/", base: usSeller},
	{name: "escaped slash in host", raw: "https://evil.example%2F.sellercentral.amazon.com/", base: usSeller},
	{name: "non-default port", raw: "https://sellercentral.amazon.com:8443/", base: usSeller},
	{name: "port 444", raw: "https://sellercentral.amazon.com:444" + confirm, base: usSeller},
	{name: "port 80 on https", raw: "https://sellercentral.amazon.com:80/", base: usSeller},
	{name: "empty port", raw: "https://sellercentral.amazon.com:/", base: usSeller},
	{name: "non-numeric port", raw: "https://sellercentral.amazon.com:x/", base: usSeller},
	{name: "IPv6 literal", raw: "https://[::1]/x", base: usSeller},
	{name: "bracketed host name", raw: "https://[sellercentral.amazon.com]/x", base: usSeller},
	{name: "double port", raw: "https://sellercentral.amazon.com:443:443/", base: usSeller},
	{name: "query that looks like userinfo", raw: "https://evil.example?@sellercentral.amazon.com/", base: usSeller},
	{name: "IP address", raw: "https://54.239.28.85/x", base: usSeller},
	{name: "unicode long s host", raw: "https://ſellercentral.amazon.com/", base: usSeller},
	{name: "cyrillic o host", raw: "https://sellercentral.amazоn.com/", base: usSeller},
	{name: "fullwidth slash", raw: "／／evil.example", base: usSeller},
	{name: "non-ASCII in path", raw: "/apps/é", base: usSeller},
	{name: "tab between slashes", raw: "/\t/evil.example", base: usSeller},
	{name: "newline between slashes", raw: "/\n/evil.example", base: usSeller},
	{name: "carriage return", raw: "/apps\r\nLocation: https://evil.example", base: usSeller},
	{name: "leading newline", raw: "\n//evil.example", base: usSeller},
	{name: "leading space", raw: " /apps", base: usSeller},
	{name: "trailing space", raw: "/apps ", base: usSeller},
	{name: "NUL", raw: "/apps\x00", base: usSeller},
	{name: "DEL", raw: "/apps\x7f", base: usSeller},
	{name: "tab in scheme", raw: "jav\tascript:alert(1)", base: usSeller},
	{name: "fragment on relative", raw: confirm + "#x", base: usSeller},
	{name: "empty fragment", raw: usSeller + confirm + "#", base: usSeller},
	{name: "fragment on absolute", raw: usSeller + "/#/evil", base: usSeller},
	{name: "opaque https", raw: "https:evil.example", base: usSeller},
	{name: "single slash https", raw: "https:/evil.example", base: usSeller},
	{name: "single slash https Amazon", raw: "https:/sellercentral.amazon.com/x", base: usSeller},
	{name: "empty host", raw: "https:///evil.example", base: usSeller},
	{name: "scheme only", raw: "https://", base: usSeller},
	{name: "path starts with //", raw: usSeller + "//evil.example", base: usSeller},
	{name: "relative without slash", raw: "apps/authorize/confirm/x", base: usSeller},
	{name: "bare host", raw: "evil.example", base: usSeller},
	{name: "bare Amazon host", raw: "sellercentral.amazon.com/x", base: usSeller},
	{name: "query only relative", raw: "?x=1", base: usSeller},
	{name: "dot", raw: ".", base: usSeller},
	{name: "relative with empty base", raw: confirm, base: ""},
	{name: "relative with untrusted base", raw: confirm, base: "https://evil.example"},
	{name: "relative with http Amazon base", raw: confirm, base: "http://sellercentral.amazon.com"},
	{name: "relative with base that has a path", raw: confirm, base: usSeller + "/x"},
	{name: "relative with base that has userinfo", raw: confirm, base: "https://sellercentral.amazon.com@evil.example"},
	{name: "relative with bare-host base", raw: confirm, base: "sellercentral.amazon.com"},
	{name: "UK suffix host", raw: ukSeller + ".evil.com" + confirm, base: usSeller},
	{name: "UK over http", raw: "http://sellercentral.amazon.co.uk" + confirm, base: usSeller},
	{name: "UK non-default port", raw: ukSeller + ":8443" + confirm, base: usSeller},
	{name: "userinfo before UK host", raw: "https://evil.com@sellercentral.amazon.co.uk" + confirm, base: usSeller},
	{name: "DE prefix host", raw: "https://xsellercentral.amazon.de" + confirm, base: usSeller},
	{name: "FR subdomain", raw: "https://x.sellercentral.amazon.fr" + confirm, base: usSeller},
	{name: "unlisted country host", raw: "https://sellercentral.amazon.at" + confirm, base: usSeller},
	{name: "relative with http UK base", raw: confirm, base: "http://sellercentral.amazon.co.uk"},
	{name: "relative with UK lookalike base", raw: confirm, base: ukSeller + ".evil.com"},
	{name: "too long relative", raw: "/" + strings.Repeat("a", 2048), base: usSeller},
	{name: "too long absolute", raw: usSeller + "/" + strings.Repeat("a", 2048), base: usSeller},
	{name: "sandbox without override", raw: sandbox + confirm, base: usSeller},
	{name: "override other port", raw: "http://127.0.0.1:9001" + confirm, base: sandbox, override: sandbox},
	{name: "override other scheme", raw: "https://127.0.0.1:9000" + confirm, base: sandbox, override: sandbox},
	{name: "override other host", raw: "http://localhost:9000" + confirm, base: sandbox, override: sandbox},
	{name: "override default port mismatch", raw: "http://127.0.0.1" + confirm, base: sandbox, override: sandbox},
	{name: "override userinfo", raw: "http://x@127.0.0.1:9000" + confirm, base: sandbox, override: sandbox},
	{name: "override relative with evil base", raw: confirm, base: "http://127.0.0.1:9001", override: sandbox},
	{name: "override still refuses evil", raw: "https://evil.example/", base: sandbox, override: sandbox},
	{name: "override protocol-relative", raw: "//127.0.0.1:9000" + confirm, base: sandbox, override: sandbox},
}

func TestResolveCallbackURIAccepted(t *testing.T) {
	for _, tc := range acceptedCallbacks {
		t.Run(tc.name, func(t *testing.T) {
			u, err := ResolveCallbackURI(tc.raw, tc.base, tc.override)
			if err != nil {
				t.Fatalf("ResolveCallbackURI(%q, %q, %q): %v", tc.raw, tc.base, tc.override, err)
			}
			if got := u.String(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			checkTrusted(t, u, tc.override)
		})
	}
}

// TestResolveCallbackURIAbsoluteIgnoresBase pins down that an absolute URL is judged on its own:
// a trusted absolute URL with an untrusted base is fine, because the base is not used.
func TestResolveCallbackURIAbsoluteIgnoresBase(t *testing.T) {
	const jp = "https://sellercentral.amazon.co.jp" + confirm
	u, err := ResolveCallbackURI(jp, "https://evil.example", "")
	if err != nil || u.String() != jp {
		t.Fatalf("got %v, %v", u, err)
	}
}

func TestResolveCallbackURIEveryOrigin(t *testing.T) {
	for o := range wantAccepted {
		for name, raw := range map[string]string{"absolute": o + confirm, "relative": confirm} {
			t.Run(o+"/"+name, func(t *testing.T) {
				u, err := ResolveCallbackURI(raw, o, "")
				if err != nil {
					t.Fatalf("ResolveCallbackURI(%q, %q): %v", raw, o, err)
				}
				if got := u.String(); got != o+confirm {
					t.Errorf("got %q, want %q", got, o+confirm)
				}
				checkTrusted(t, u, "")
			})
		}
		// The same host over http, with a port, or as a suffix of another host is refused.
		host := strings.TrimPrefix(o, "https://")
		for name, raw := range map[string]string{
			"http":   "http://" + host + confirm,
			"port":   o + ":8443" + confirm,
			"suffix": o + ".evil.example" + confirm,
			"at":     o + "@evil.example" + confirm,
		} {
			t.Run(o+"/refused/"+name, func(t *testing.T) {
				if u, err := ResolveCallbackURI(raw, o, ""); !errors.Is(err, ErrUntrustedCallback) {
					t.Fatalf("ResolveCallbackURI(%q) = %v, %v; want ErrUntrustedCallback", raw, u, err)
				}
			})
		}
	}
}

func TestResolveCallbackURIRefused(t *testing.T) {
	for _, tc := range refusedCallbacks {
		t.Run(tc.name, func(t *testing.T) {
			u, err := ResolveCallbackURI(tc.raw, tc.base, tc.override)
			if !errors.Is(err, ErrUntrustedCallback) || u != nil {
				t.Fatalf("ResolveCallbackURI(%q, %q, %q) = %v, %v; want ErrUntrustedCallback", tc.raw, tc.base, tc.override, u, err)
			}
			// The reason must not echo the input: it may be shown on a page or logged.
			if msg := err.Error(); strings.Contains(msg, "evil") || (len(tc.raw) > 8 && strings.Contains(msg, tc.raw)) {
				t.Errorf("error %q echoes the input", msg)
			}
		})
	}
}

func TestResolveCallbackURIInvalidOverride(t *testing.T) {
	for _, override := range []string{"127.0.0.1:9000", "http://127.0.0.1:9000/amazon", "ftp://x", "http://a@b"} {
		t.Run(override, func(t *testing.T) {
			u, err := ResolveCallbackURI(usSeller+confirm, usSeller, override)
			if err == nil || u != nil {
				t.Fatalf("got %v, %v; want a configuration error", u, err)
			}
			if errors.Is(err, ErrUntrustedCallback) {
				t.Fatalf("a bad override is a configuration error, not the caller's fault: %v", err)
			}
		})
	}
}

func FuzzResolveCallbackURI(f *testing.F) {
	for _, tc := range append(append([]callbackCase{}, acceptedCallbacks...), refusedCallbacks...) {
		f.Add(tc.raw, tc.base, tc.override != "")
	}
	f.Fuzz(func(t *testing.T, raw, base string, useOverride bool) {
		override := ""
		if useOverride {
			override = sandbox
		}
		u, err := ResolveCallbackURI(raw, base, override)
		if err != nil {
			if !errors.Is(err, ErrUntrustedCallback) || u != nil {
				t.Fatalf("refusal %v, %v is not ErrUntrustedCallback with a nil URL", u, err)
			}
			return
		}
		if len(raw) > 2048 {
			t.Fatalf("accepted %d bytes", len(raw))
		}
		checkTrusted(t, u, override)
		// What we accepted and print must be accepted again, unchanged: the login handler
		// redirects to u.String(), so that is the form whose origin has to be trusted. A relative
		// input grows by the base, so its resolved form may pass the input limit.
		if len(u.String()) > 2048 {
			return
		}
		again, err := ResolveCallbackURI(u.String(), "", override)
		if err != nil || again.String() != u.String() {
			t.Fatalf("accepted %q but not its String form %q: %v, %v", raw, u.String(), again, err)
		}
	})
}
