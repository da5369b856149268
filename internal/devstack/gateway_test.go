package devstack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/sellerauth/sellerauth/internal/samtemplate"
)

func TestToEvent(t *testing.T) {
	r := httptest.NewRequest("GET", "http://127.0.0.1:3000/callback?state=a%2Bb&x=1&x=2&empty=", nil)
	r.Header.Add("Cookie", "__Host-spapi_oauth_state=abc; other=1")
	r.Header.Add("Accept", "text/html")
	r.Header.Add("X-Multi", "a")
	r.Header.Add("X-Multi", "b")
	b, err := toEvent(r, nil, matched{routeKey: "GET /callback"}, time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	var e events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	if e.Version != "2.0" || e.RouteKey != "GET /callback" || e.RawPath != "/callback" || e.RawQueryString != "state=a%2Bb&x=1&x=2&empty=" {
		t.Errorf("version %q routeKey %q rawPath %q rawQueryString %q", e.Version, e.RouteKey, e.RawPath, e.RawQueryString)
	}
	if want := map[string]string{"state": "a+b", "x": "1,2", "empty": ""}; !reflect.DeepEqual(e.QueryStringParameters, want) {
		t.Errorf("queryStringParameters %v, want %v", e.QueryStringParameters, want)
	}
	if want := []string{"__Host-spapi_oauth_state=abc", "other=1"}; !reflect.DeepEqual(e.Cookies, want) {
		t.Errorf("cookies %v, want %v", e.Cookies, want)
	}
	if e.Headers["x-multi"] != "a,b" || e.Headers["accept"] != "text/html" || e.Headers["cookie"] != "" {
		t.Errorf("headers %v", e.Headers)
	}
	rc := e.RequestContext
	if rc.HTTP.Method != "GET" || rc.HTTP.Path != "/callback" || rc.Stage != "$default" || rc.TimeEpoch != 1700000000000 || rc.RequestID == "" ||
		rc.DomainName != "127.0.0.1:3000" || rc.Authorizer != nil || e.PathParameters != nil {
		t.Errorf("requestContext %+v, pathParameters %v", rc, e.PathParameters)
	}
}

func TestWriteResponse(t *testing.T) {
	w := httptest.NewRecorder()
	body, _ := json.Marshal(events.APIGatewayV2HTTPResponse{
		StatusCode: 302,
		Headers:    map[string]string{"Location": "https://example.com/", "Cache-Control": "no-store"},
		Cookies:    []string{"a=1; Path=/", "b=2; Path=/"},
	})
	if err := writeResponse(w, body); err != nil {
		t.Fatal(err)
	}
	if w.Code != 302 || w.Header().Get("Location") != "https://example.com/" || len(w.Header().Values("Set-Cookie")) != 2 {
		t.Errorf("got %d %v", w.Code, w.Header())
	}
}

// recorder is a function that answers 200 and keeps the events it got.
type recorder struct {
	mu     sync.Mutex
	events []events.APIGatewayV2HTTPRequest
}

func (f *recorder) invoke(_ context.Context, event []byte) ([]byte, error) {
	var e events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(event, &e); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.events = append(f.events, e)
	f.mu.Unlock()
	return []byte(`{"statusCode":200,"headers":{"Content-Type":"text/plain"},"body":"ok"}`), nil
}

func (f *recorder) last(t *testing.T) events.APIGatewayV2HTTPRequest {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.events) == 0 {
		t.Fatal("the function was not invoked")
	}
	return f.events[len(f.events)-1]
}

func (f *recorder) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.events)
}

// testGateway serves the backend API's routes (IAM) and two public ones, each to its own recorder.
func testGateway(t *testing.T) (*httptest.Server, map[string]*recorder) {
	t.Helper()
	g := &Gateway{iam: devVerifier(), logs: NewLogs(nil), now: time.Now}
	fns := map[string]*recorder{}
	for _, r := range []samtemplate.Route{
		{Method: "GET", Path: "/"},
		{Method: "GET", Path: "/connect"},
		{Method: "POST", Path: "/connect/sessions", IAM: true},
		{Method: "GET", Path: "/connect/sessions/{session_id}", IAM: true},
		{Method: "GET", Path: "/connect/sessions/latest", IAM: true},
		{Method: "GET", Path: "/connections", IAM: true},
		{Method: "DELETE", Path: "/connections/{selling_partner_id}/{region}", IAM: true},
		{Method: "ANY", Path: "/files/{path+}"},
	} {
		fns[r.Key()] = &recorder{}
		g.add(r, fns[r.Key()])
	}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return srv, fns
}

// send signs req with the given secret (none when secret is "") and sends it.
func send(t *testing.T, req *http.Request, body []byte, keyID, secret string) *http.Response {
	t.Helper()
	if secret != "" {
		sum := sha256.Sum256(body)
		creds := aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret}
		if err := v4.NewSigner().SignHTTP(t.Context(), creds, req, hex.EncodeToString(sum[:]), "execute-api", Region, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func newRequest(t *testing.T, method, url string, body []byte, contentType string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

func TestGatewayPathParameters(t *testing.T) {
	srv, fns := testGateway(t)
	for _, tc := range []struct {
		method, path string
		routeKey     string
		params       map[string]string
	}{
		{"GET", "/connect/sessions/cs_abc-123", "GET /connect/sessions/{session_id}", map[string]string{"session_id": "cs_abc-123"}},
		// A literal route wins over a path parameter.
		{"GET", "/connect/sessions/latest", "GET /connect/sessions/latest", nil},
		{"DELETE", "/connections/A1SELLER/eu", "DELETE /connections/{selling_partner_id}/{region}", map[string]string{"selling_partner_id": "A1SELLER", "region": "eu"}},
		// Decoded, and an encoded slash stays inside its segment.
		{"DELETE", "/connections/A%2FB%20C/na", "DELETE /connections/{selling_partner_id}/{region}", map[string]string{"selling_partner_id": "A/B C", "region": "na"}},
		{"PUT", "/files/a/b%20c", "ANY /files/{path+}", map[string]string{"path": "a/b c"}},
	} {
		resp := send(t, newRequest(t, tc.method, srv.URL+tc.path, nil, ""), nil, DevAccessKeyID, DevSecretAccessKey)
		if resp.StatusCode != 200 {
			t.Errorf("%s %s -> %d", tc.method, tc.path, resp.StatusCode)
			continue
		}
		e := fns[tc.routeKey].last(t)
		if e.RouteKey != tc.routeKey || e.RequestContext.RouteKey != tc.routeKey || !reflect.DeepEqual(e.PathParameters, tc.params) {
			t.Errorf("%s %s: routeKey %q, pathParameters %v; want %q, %v", tc.method, tc.path, e.RouteKey, e.PathParameters, tc.routeKey, tc.params)
		}
	}
	for _, tc := range []struct{ method, path string }{
		{"GET", "/connections/A1SELLER"},      // too few segments
		{"DELETE", "/connections/A1SELLER/"},  // an empty parameter
		{"DELETE", "/connections/A1/eu/more"}, // too many
		{"POST", "/connect"},                  // no such method
		{"GET", "/files/"},                    // a greedy parameter needs something
	} {
		if resp := send(t, newRequest(t, tc.method, srv.URL+tc.path, nil, ""), nil, DevAccessKeyID, DevSecretAccessKey); resp.StatusCode != 404 {
			t.Errorf("%s %s -> %d, want 404", tc.method, tc.path, resp.StatusCode)
		}
	}
}

func TestGatewayIAMAuthorizer(t *testing.T) {
	srv, fns := testGateway(t)
	create := fns["POST /connect/sessions"]
	body := []byte(`{"end_user_id":"alice"}`)
	forbidden := func(name string, resp *http.Response) {
		t.Helper()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 403 || string(b) != `{"message":"Forbidden"}` || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %s", name, resp.StatusCode, b)
		}
	}
	forbidden("unsigned", send(t, newRequest(t, "POST", srv.URL+"/connect/sessions", body, "application/json"), body, "", ""))
	forbidden("wrong secret", send(t, newRequest(t, "POST", srv.URL+"/connect/sessions", body, "application/json"), body, DevAccessKeyID, "not-the-secret"))
	forbidden("unknown key", send(t, newRequest(t, "POST", srv.URL+"/connect/sessions", body, "application/json"), body, "AKIDOTHER", DevSecretAccessKey))
	// Signed, then the body changed on the way.
	req := newRequest(t, "POST", srv.URL+"/connect/sessions", body, "application/json")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(t.Context(), aws.Credentials{AccessKeyID: DevAccessKeyID, SecretAccessKey: DevSecretAccessKey},
		req, hex.EncodeToString(sum[:]), "execute-api", Region, time.Now()); err != nil {
		t.Fatal(err)
	}
	other := []byte(`{"end_user_id":"mallory"}`)
	req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(other)), int64(len(other))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("body changed after signing -> %d, want 403", resp.StatusCode)
	}
	if n := create.count(); n != 0 {
		t.Fatalf("the function was invoked %d times for refused requests", n)
	}
	// A public route needs no signature.
	if resp := send(t, newRequest(t, "GET", srv.URL+"/connect?session=x", nil, ""), nil, "", ""); resp.StatusCode != 200 {
		t.Errorf("public route -> %d", resp.StatusCode)
	}

	resp = send(t, newRequest(t, "POST", srv.URL+"/connect/sessions", body, "application/json"), body, DevAccessKeyID, DevSecretAccessKey)
	if resp.StatusCode != 200 || resp.Header.Get("Apigw-Requestid") == "" {
		t.Fatalf("signed request -> %d (request ID %q)", resp.StatusCode, resp.Header.Get("Apigw-Requestid"))
	}
	e := create.last(t)
	a := e.RequestContext.Authorizer
	want := events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription{
		AccessKey: DevAccessKeyID, AccountID: AccountID, CallerID: DevUserID, PrincipalOrgID: DevPrincipalOrgID,
		UserARN: DevUserARN, UserID: DevUserID,
	}
	if a == nil || a.IAM == nil || !reflect.DeepEqual(*a.IAM, want) {
		t.Fatalf("requestContext.authorizer %+v, want iam %+v", a, want)
	}
	if e.Body != string(body) || e.IsBase64Encoded || e.RequestContext.DomainName != strings.TrimPrefix(srv.URL, "http://") ||
		e.RequestContext.HTTP.Method != "POST" || e.Headers["content-type"] != "application/json" {
		t.Errorf("event body %q base64 %v domainName %q method %q headers %v", e.Body, e.IsBase64Encoded, e.RequestContext.DomainName, e.RequestContext.HTTP.Method, e.Headers)
	}
	if resp.Header.Get("Apigw-Requestid") != e.RequestContext.RequestID {
		t.Errorf("apigw-requestid %q, requestContext.requestId %q", resp.Header.Get("Apigw-Requestid"), e.RequestContext.RequestID)
	}

	// The query string is signed too; a GET without a body.
	resp = send(t, newRequest(t, "GET", srv.URL+"/connections?end_user_id=a%2Cb%20c", nil, ""), nil, DevAccessKeyID, DevSecretAccessKey)
	if resp.StatusCode != 200 || fns["GET /connections"].last(t).RequestContext.Authorizer == nil {
		t.Errorf("signed GET with a query -> %d", resp.StatusCode)
	}
}

// TestGatewayBodyEncoding: API Gateway passes only text content types as text; the rest, a
// missing Content-Type and form posts included, arrive base64-encoded.
func TestGatewayBodyEncoding(t *testing.T) {
	srv, fns := testGateway(t)
	for _, tc := range []struct {
		contentType string
		base64      bool
	}{
		{"application/json", false},
		{"application/json; charset=utf-8", false},
		{"text/plain", false},
		{"application/xml", false},
		{"application/x-www-form-urlencoded", true},
		{"application/octet-stream", true},
		{"", true},
	} {
		body := []byte(`{"end_user_id":"alice"}`)
		send(t, newRequest(t, "PUT", srv.URL+"/files/x", body, tc.contentType), body, "", "")
		e := fns["ANY /files/{path+}"].last(t)
		got := e.Body
		if e.IsBase64Encoded {
			b, err := base64.StdEncoding.DecodeString(e.Body)
			if err != nil {
				t.Fatal(err)
			}
			got = string(b)
		}
		if e.IsBase64Encoded != tc.base64 || got != string(body) {
			t.Errorf("Content-Type %q: isBase64Encoded %v, body %q", tc.contentType, e.IsBase64Encoded, got)
		}
	}
}
