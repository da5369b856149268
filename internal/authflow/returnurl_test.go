package authflow

import (
	"net/url"
	"strings"
	"testing"
)

const testPrefixes = "https://app.example.com/amazon/,https://app.example.com/settings,http://127.0.0.1:8080/"

func TestReturnURLAllowlist(t *testing.T) {
	r, err := ParseReturnURLs(testPrefixes)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		url  string
		want bool
	}{
		{"https://app.example.com/amazon/", true},
		{"https://app.example.com/amazon/done?x=1", true},
		{"https://APP.example.com:443/amazon/done", true},
		{"https://app.example.com/settings", true},
		{"https://app.example.com/settings/amazon", true},
		{"https://app.example.com/settings?tab=amazon", true},
		{"http://127.0.0.1:8080/return", true},
		{"https://app.example.com/settingsx", false},
		{"https://app.example.com/amazon", false}, // the prefix ends with a slash
		{"https://app.example.com/admin", false},
		{"https://app.example.com.evil.com/amazon/", false},
		{"https://app.example.com@evil.com/amazon/", false},
		{"https://evil.com/?https://app.example.com/amazon/", false},
		{"http://app.example.com/amazon/", false},
		{"https://app.example.com:8443/amazon/", false},
		{"https://app.example.com/amazon/../admin", false},
		{"https://app.example.com/amazon/%2e%2e/admin", false},
		{"https://app.example.com/amazon/x#frag", false},
		{"https://app.example.com\\@evil.com/amazon/", false},
		{"https://app.example.com/amazon/\t", false},
		{"//app.example.com/amazon/", false},
		{"javascript:alert(1)//app.example.com/amazon/", false},
		{"http://127.0.0.1:8081/return", false},
		{"", false},
	} {
		if got := r.Allowed(tc.url); got != tc.want {
			t.Errorf("Allowed(%q) = %v, want %v", tc.url, got, tc.want)
		}
	}
	var none ReturnURLs
	if none.Allowed("https://app.example.com/amazon/") {
		t.Error("an empty allowlist admitted a URL")
	}
	for _, bad := range []string{"http://app.example.com/", "https://app.example.com/?x=1", "https://user@app.example.com/", "app.example.com"} {
		if _, err := ParseReturnURLs(bad); err == nil {
			t.Errorf("ParseReturnURLs(%q) accepted it", bad)
		}
	}
}

// FuzzReturnURLAllowed holds the allowlist's promise whatever the input: a URL it admits goes,
// for url.Parse and for a browser alike, to an allowed scheme and host, under an allowed path.
func FuzzReturnURLAllowed(f *testing.F) {
	for _, s := range []string{"https://app.example.com/amazon/x", "https://app.example.com.evil.com/amazon/",
		"https://app.example.com@evil.com/", "https://app.example.com/amazon/../x", "http://127.0.0.1:8080/a",
		"https://app.example.com/settings?x=/amazon/", "https://app.example.com\\evil.com/amazon/"} {
		f.Add(s)
	}
	r, err := ParseReturnURLs(testPrefixes)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if !r.Allowed(raw) {
			return
		}
		if strings.ContainsAny(raw, "@\\#") || strings.ContainsFunc(raw, func(c rune) bool { return c <= ' ' || c >= 0x7f }) {
			t.Fatalf("admitted %q, which browsers may read otherwise", raw)
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("admitted %q, which does not parse", raw)
		}
		host := strings.ToLower(u.Host)
		host = strings.TrimSuffix(strings.TrimSuffix(host, ":443"), ":80")
		switch {
		case u.Scheme == "https" && host == "app.example.com" &&
			(strings.HasPrefix(u.EscapedPath(), "/amazon/") || u.EscapedPath() == "/settings" || strings.HasPrefix(u.EscapedPath(), "/settings/")):
		case u.Scheme == "http" && host == "127.0.0.1:8080" && strings.HasPrefix(u.EscapedPath(), "/"):
		default:
			t.Fatalf("admitted %q: %s://%s%s is not under an allowed prefix", raw, u.Scheme, host, u.EscapedPath())
		}
		if u.User != nil || u.Opaque != "" {
			t.Fatalf("admitted %q with userinfo or an opaque part", raw)
		}
	})
}
