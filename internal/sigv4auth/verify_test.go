package sigv4auth

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	testRegion = "eu-west-1"
	testKey    = "AKIDEXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	testToken  = "FQoGZXIvYXdzEXAMPLETOKEN"
	testHost   = "abc123.execute-api.eu-west-1.amazonaws.com"
)

// clock is the fixed time every request is signed and verified at.
var clock = time.Date(2026, 12, 2, 10, 30, 0, 0, time.UTC)

var testIdentity = Identity{
	AccountID: "123456789012",
	UserARN:   "arn:aws:iam::123456789012:user/backend",
	UserID:    "AIDAEXAMPLE",
	CallerID:  "AIDAEXAMPLE",
}

func newVerifier() *Verifier {
	return &Verifier{
		Lookup: func(akid string) (string, Identity, bool) {
			if akid != testKey {
				return "", Identity{}, false
			}
			return testSecret, testIdentity, true
		},
		Region: testRegion,
		Now:    func() time.Time { return clock },
	}
}

// request describes a request a client signs with the SDK's signer.
type request struct {
	method  string
	target  string // path and query, as the client's URL holds them
	body    string
	headers http.Header
	creds   aws.Credentials
	at      time.Time
	service string
	region  string
}

// signed signs q with the SDK's v4.Signer, as every AWS SDK caller does, and returns the request
// as a server receives it: written to the wire and parsed back, so that Host, RequestURI, the
// escaped path and Content-Length are what net/http hands a handler.
func signed(t *testing.T, q request) *http.Request {
	t.Helper()
	if q.method == "" {
		q.method = http.MethodGet
	}
	if q.creds.AccessKeyID == "" {
		q.creds = aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret}
	}
	if q.at.IsZero() {
		q.at = clock
	}
	if q.service == "" {
		q.service = "execute-api"
	}
	if q.region == "" {
		q.region = testRegion
	}
	var body io.Reader
	if q.body != "" {
		body = strings.NewReader(q.body)
	}
	req, err := http.NewRequest(q.method, "https://"+testHost+q.target, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range q.headers {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	sum := sha256.Sum256([]byte(q.body))
	if err := v4.NewSigner().SignHTTP(context.Background(), q.creds, req, hex.EncodeToString(sum[:]),
		q.service, q.region, q.at); err != nil {
		t.Fatal(err)
	}
	return onServer(t, req)
}

// onServer writes a client request to the wire format and reads it back as a server does.
func onServer(t *testing.T, req *http.Request) *http.Request {
	t.Helper()
	var wire bytes.Buffer
	if err := req.Write(&wire); err != nil {
		t.Fatal(err)
	}
	got, err := http.ReadRequest(bufio.NewReader(&wire))
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// setAuthorization rewrites one component of the Authorization header, for forged requests.
func setAuthorization(r *http.Request, from, to string) {
	r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), from, to, 1))
}

// TestVerifyAcceptsSDKSignatures checks that what the SDK signs verifies, over the shapes of
// request the connect API sees and the corners of canonicalization.
func TestVerifyAcceptsSDKSignatures(t *testing.T) {
	query := url.Values{
		"end_user_id": {"user 1+2/ä&=*~'()!"},
		"b":           {"2", "1", ""},
		"a b":         {"x"},
	}.Encode()
	tests := []struct {
		name string
		q    request
	}{
		{"get", request{target: "/connect/sessions/cs_abc"}},
		{"root", request{target: "/"}},
		{"query with spaces and special characters", request{target: "/connections?" + query}},
		{"query with %20 and a bare name", request{target: "/connections?end_user_id=a%20b%2Bc&flag"}},
		{"escaped path segment", request{method: http.MethodDelete, target: "/connections/A1%2FB/eu?end_user_id=u%2F1"}},
		{"path with sub-delimiters", request{target: "/connect/sessions/a!b$c'd(e)f*g,h;i=j:k@l"}},
		{"post body", request{method: http.MethodPost, target: "/connect/sessions",
			body:    `{"end_user_id":"u-1","marketplace":"DE"}`,
			headers: http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}}},
		{"session token", request{target: "/connections?end_user_id=u",
			creds: aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret, SessionToken: testToken}}},
		{"content hash header", request{method: http.MethodPost, target: "/connect/sessions", body: "{}",
			headers: http.Header{"X-Amz-Content-Sha256": {sha("{}")}}}},
		{"repeated header and inner spaces", request{target: "/connections?end_user_id=u",
			headers: http.Header{"X-Custom": {"a   b ", "  c"}}}},
		{"signed a minute late", request{target: "/", at: clock.Add(-time.Minute)}},
		{"signed four minutes ahead", request{target: "/", at: clock.Add(4 * time.Minute)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := signed(t, tc.q)
			id, err := newVerifier().Verify(r, []byte(tc.q.body))
			if err != nil {
				t.Fatalf("Verify: %v\nAuthorization: %s", err, r.Header.Get("Authorization"))
			}
			want := testIdentity
			want.AccessKeyID = testKey
			if id != want {
				t.Errorf("identity = %+v, want %+v", id, want)
			}
		})
	}
}

// TestVerifyRefuses is the table of requests API Gateway would answer with 403.
func TestVerifyRefuses(t *testing.T) {
	post := request{method: http.MethodPost, target: "/connect/sessions", body: `{"end_user_id":"u-1"}`,
		headers: http.Header{"Content-Type": {"application/json"}}}
	get := request{target: "/connections?end_user_id=u-1"}
	del := request{method: http.MethodDelete, target: "/connections/A1%2FB/eu"}

	tests := []struct {
		name   string
		q      request
		body   string // verified body when it differs from the signed one
		tamper func(r *http.Request)
		v      func(v *Verifier)
		want   error
	}{
		{name: "tampered body", q: post, body: `{"end_user_id":"u-2"}`, want: ErrBadSignature},
		{name: "body dropped", q: post, body: "-", want: ErrBadSignature},
		{name: "tampered query", q: get, tamper: func(r *http.Request) { r.URL.RawQuery = "end_user_id=u-2" }, want: ErrBadSignature},
		{name: "added query parameter", q: get, tamper: func(r *http.Request) { r.URL.RawQuery += "&x=1" }, want: ErrBadSignature},
		{name: "unparsable query", q: get, tamper: func(r *http.Request) { r.URL.RawQuery += ";x=1" }, want: ErrMalformedAuth},
		{name: "tampered path", q: del, tamper: func(r *http.Request) {
			r.URL, _ = url.Parse("/connections/A1%2FC/eu")
		}, want: ErrBadSignature},
		{name: "unescaped path", q: del, tamper: func(r *http.Request) {
			// The same segments, but the slash inside the seller ID is now a separator.
			r.URL, _ = url.Parse("/connections/A1/B/eu")
		}, want: ErrBadSignature},
		{name: "other method", q: del, tamper: func(r *http.Request) { r.Method = http.MethodGet }, want: ErrBadSignature},
		{name: "other host", q: get, tamper: func(r *http.Request) { r.Host = "evil.example" }, want: ErrBadSignature},
		{name: "signed header changed", q: post, tamper: func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }, want: ErrBadSignature},
		{name: "signed header removed", q: post, tamper: func(r *http.Request) { r.Header.Del("Content-Type") }, want: ErrBadSignature},
		{name: "wrong secret", q: request{target: get.target,
			creds: aws.Credentials{AccessKeyID: testKey, SecretAccessKey: "not-the-secret"}}, want: ErrBadSignature},
		{name: "unknown key", q: request{target: get.target,
			creds: aws.Credentials{AccessKeyID: "AKIDUNKNOWN", SecretAccessKey: testSecret}}, want: ErrUnknownKey},
		{name: "expired", q: request{target: get.target, at: clock.Add(-5*time.Minute - time.Second)}, want: ErrExpired},
		{name: "not yet current", q: request{target: get.target, at: clock.Add(5*time.Minute + time.Second)}, want: ErrExpired},
		{name: "tighter skew", q: request{target: get.target, at: clock.Add(-2 * time.Minute)},
			v: func(v *Verifier) { v.MaxSkew = time.Minute }, want: ErrExpired},
		{name: "missing Authorization", q: get, tamper: func(r *http.Request) { r.Header.Del("Authorization") }, want: ErrMissingAuth},
		{name: "missing X-Amz-Date", q: get, tamper: func(r *http.Request) { r.Header.Del("X-Amz-Date") }, want: ErrMalformedAuth},
		{name: "X-Amz-Date moved", q: get, tamper: func(r *http.Request) {
			r.Header.Set("X-Amz-Date", clock.Add(time.Second).Format(amzDateFmt))
		}, want: ErrBadSignature},
		{name: "unsigned host", q: get, tamper: func(r *http.Request) {
			setAuthorization(r, "SignedHeaders=host;x-amz-date", "SignedHeaders=x-amz-date")
		}, want: ErrUnsignedHeader},
		{name: "unsigned x-amz-date", q: get, tamper: func(r *http.Request) {
			setAuthorization(r, "SignedHeaders=host;x-amz-date", "SignedHeaders=host")
		}, want: ErrUnsignedHeader},
		{name: "unsigned session token", q: get, tamper: func(r *http.Request) { r.Header.Set("X-Amz-Security-Token", testToken) }, want: ErrUnsignedHeader},
		{name: "swapped session token", q: request{target: get.target,
			creds: aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret, SessionToken: testToken}},
			tamper: func(r *http.Request) { r.Header.Set("X-Amz-Security-Token", "other") }, want: ErrBadSignature},
		{name: "content hash header lies", q: post, tamper: func(r *http.Request) {
			r.Header.Set("X-Amz-Content-Sha256", sha("something else"))
		}, want: ErrBadSignature},
		{name: "unsigned payload", q: post, tamper: func(r *http.Request) {
			r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
		}, want: ErrBadSignature},
		{name: "other region", q: request{target: get.target, region: "us-east-1"}, want: ErrScope},
		{name: "other service", q: request{target: get.target, service: "s3"}, want: ErrScope},
		{name: "scope date differs", q: get, tamper: func(r *http.Request) {
			setAuthorization(r, "/20261202/", "/20261201/")
		}, want: ErrScope},
		{name: "scope terminator", q: get, tamper: func(r *http.Request) {
			setAuthorization(r, "/aws4_request", "/aws5_request")
		}, want: ErrScope},
		{name: "other algorithm", q: get, tamper: func(r *http.Request) {
			setAuthorization(r, "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256")
		}, want: ErrMalformedAuth},
		{name: "unsorted signed headers", q: get, tamper: func(r *http.Request) {
			setAuthorization(r, "SignedHeaders=host;x-amz-date", "SignedHeaders=x-amz-date;host")
		}, want: ErrMalformedAuth},
		{name: "uppercase signature", q: get, tamper: func(r *http.Request) {
			a := r.Header.Get("Authorization")
			i := strings.Index(a, "Signature=") + len("Signature=")
			r.Header.Set("Authorization", a[:i]+strings.ToUpper(a[i:]))
		}, want: ErrMalformedAuth},
		{name: "forged signature", q: get, tamper: func(r *http.Request) {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:len(a)-64]+strings.Repeat("0", 64))
		}, want: ErrBadSignature},
		{name: "no Lookup", q: get, v: func(v *Verifier) { v.Lookup = nil }, want: ErrMisconfigured},
		{name: "no Region", q: get, v: func(v *Verifier) { v.Region = "" }, want: ErrMisconfigured},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := signed(t, tc.q)
			signature := r.Header.Get("Authorization")
			if i := strings.Index(signature, "Signature="); i >= 0 {
				signature = signature[i+len("Signature="):]
			}
			if tc.tamper != nil {
				tc.tamper(r)
			}
			body := tc.q.body
			if tc.body == "-" {
				body = ""
			} else if tc.body != "" {
				body = tc.body
			}
			v := newVerifier()
			if tc.v != nil {
				tc.v(v)
			}
			id, err := v.Verify(r, []byte(body))
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %+v, %v; want %v", id, err, tc.want)
			}
			if id != (Identity{}) {
				t.Errorf("identity %+v returned with an error", id)
			}
			for _, secret := range []string{testSecret, testToken, signature} {
				if secret != "" && strings.Contains(err.Error(), secret) {
					t.Errorf("error %q reveals %q", err, secret)
				}
			}
		})
	}
}

// TestVerifyOverHTTP checks a request that really crossed a connection: the handler sees Host,
// Content-Length and the escaped path as net/http's server sets them.
func TestVerifyOverHTTP(t *testing.T) {
	v := newVerifier()
	var got Identity
	var verr error
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got, verr = v.Verify(r, body)
	}))
	defer srv.Close()

	body := `{"end_user_id":"u 1"}`
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/connections/A1%2FB/eu?end_user_id=a+b%26c", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	creds := aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret, SessionToken: testToken}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, sha(body), "execute-api", testRegion, clock); err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if verr != nil {
		t.Fatalf("Verify: %v", verr)
	}
	if got.AccessKeyID != testKey || got.UserARN != testIdentity.UserARN {
		t.Errorf("identity = %+v", got)
	}
}

func TestIdentityIAM(t *testing.T) {
	id := testIdentity
	id.AccessKeyID = testKey
	id.PrincipalOrgID = "o-example"
	iam := id.IAM()
	if iam.AccessKey != testKey || iam.AccountID != id.AccountID || iam.UserARN != id.UserARN ||
		iam.UserID != id.UserID || iam.CallerID != id.CallerID || iam.PrincipalOrgID != "o-example" {
		t.Errorf("IAM() = %+v, from %+v", iam, id)
	}
}

// TestCanonicalQuery pins the encoding the SDK signer uses, which API Gateway expects.
func TestCanonicalQuery(t *testing.T) {
	got, err := canonicalQuery("b=2&a=x+y&b=1&c=%2A~%C3%A4&d")
	if err != nil {
		t.Fatal(err)
	}
	const want = "a=x%20y&b=1&b=2&c=%2A~%C3%A4&d="
	if got != want {
		t.Errorf("canonicalQuery = %q, want %q", got, want)
	}
}
