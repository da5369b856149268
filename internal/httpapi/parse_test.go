package httpapi

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/sellerauth/sellerauth/internal/authflow"
)

var callbackParams = params{"state": 128, "selling_partner_id": 64, "spapi_oauth_code": 512, "mws_auth_token": 512}

func TestParseQuery(t *testing.T) {
	for _, tc := range []struct {
		name, raw string
		want      map[string]string
		param     string // the InputError's parameter, "" when the query is accepted
	}{
		{"plain", "state=abc&spapi_oauth_code=c1", map[string]string{"state": "abc", "spapi_oauth_code": "c1"}, ""},
		{"unknown ignored", "state=abc&utm_source=x&utm_source=y", map[string]string{"state": "abc"}, ""},
		{"escaped", "state=a%2Bb", map[string]string{"state": "a+b"}, ""},
		{"empty", "", map[string]string{}, ""},
		{"repeated", "state=a&state=a", nil, "state"},
		{"repeated empty", "state=&state=a", nil, "state"},
		{"comma", "spapi_oauth_code=a,b", nil, "spapi_oauth_code"},
		{"escaped comma", "spapi_oauth_code=a%2Cb", nil, "spapi_oauth_code"},
		{"too long", "state=" + strings.Repeat("a", 129), nil, "state"},
		{"query too long", "x=" + strings.Repeat("a", maxQueryLen), nil, "query"},
		{"bad escape", "state=%zz", nil, "query"},
		{"semicolon", "state=a;b", nil, "query"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseQuery(tc.raw, callbackParams)
			if tc.param != "" {
				var ie *authflow.InputError
				if !errors.As(err, &ie) || ie.Param != tc.param {
					t.Fatalf("error %v, want an InputError for %s", err, tc.param)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func TestReadStateCookie(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cookies []string
		want    string
	}{
		{"none", nil, ""},
		{"other cookies", []string{"theme=dark", "a=b"}, ""},
		{"one", []string{"theme=dark", StateCookieName + "=s1"}, "s1"},
		{"joined header", []string{"theme=dark; " + StateCookieName + "=s1"}, "s1"},
		{"two planted", []string{StateCookieName + "=s1", StateCookieName + "=s2"}, ""},
		{"prefix lookalike", []string{"__host-spapi_oauth_state=s1"}, ""},
		{"suffix lookalike", []string{StateCookieName + "x=s1"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := readStateCookie(tc.cookies); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// FuzzCallbackQuery checks that whatever a browser sends, the callback's parsing accepts only
// single, comma-free, bounded values that round-trip through the raw query, and that cookie
// parsing yields a value only when exactly one state cookie is present.
func FuzzCallbackQuery(f *testing.F) {
	f.Add("state=abc&selling_partner_id=A1&spapi_oauth_code=c", StateCookieName+"=abc")
	f.Add("state=a&state=b", "x=1; "+StateCookieName+"=a")
	f.Add("spapi_oauth_code=a%2Cb&mws_auth_token=amzn.mws.1", StateCookieName+"=a; "+StateCookieName+"=b")
	f.Add("%zz=1;state=2", "")
	f.Fuzz(func(t *testing.T, raw, cookieHeader string) {
		got, err := parseQuery(raw, callbackParams)
		if err == nil {
			values, perr := url.ParseQuery(raw)
			if perr != nil {
				t.Fatalf("accepted a query the standard parser refuses: %v", perr)
			}
			for k, v := range got {
				max, known := callbackParams[k]
				switch {
				case !known:
					t.Fatalf("returned unknown parameter %q", k)
				case len(values[k]) != 1 || values[k][0] != v:
					t.Fatalf("%s: returned %q from %q", k, v, values[k])
				case strings.Contains(v, ","):
					t.Fatalf("%s: accepted a comma", k)
				case len(v) > max:
					t.Fatalf("%s: accepted %d bytes", k, len(v))
				}
			}
		}
		c := readStateCookie(strings.Split(cookieHeader, ";"))
		if c != "" && strings.Count(cookieHeader, StateCookieName+"=") < 1 {
			t.Fatalf("found a state cookie %q that is not there", c)
		}
	})
}
