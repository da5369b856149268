package connect_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/sellerauth/sellerauth/connect"
	"github.com/sellerauth/sellerauth/internal/sigv4auth"
)

// clock is the fixed time the client signs at and the fake API verifies at.
var clock = time.Date(2026, 12, 2, 10, 30, 0, 0, time.UTC)

func fixedClock() time.Time { return clock }

func testConfig() aws.Config {
	return aws.Config{
		Region:      fakeRegion,
		Credentials: credentials.NewStaticCredentialsProvider(fakeKeyID, fakeSecret, ""),
	}
}

// newTestAPI starts the fake API on the fixed clock and a client of it.
func newTestAPI(t *testing.T, opts ...connect.Option) (*fakeAPI, *connect.Client) {
	t.Helper()
	api := startFakeAPIWithClock(fixedClock)
	t.Cleanup(api.Close)
	return api, connect.New(testConfig(), api.URL, append([]connect.Option{connect.WithClock(fixedClock)}, opts...)...)
}

func TestCreateSession(t *testing.T) {
	api, client := newTestAPI(t)
	ctx := context.Background()

	in := connect.SessionInput{
		EndUserID:         "user 42",
		Marketplace:       "DE",
		AccountType:       "seller",
		ReturnURL:         "https://app.example/back?x=1",
		AmazonCallbackURI: "https://sellercentral.amazon.de/apps/authorize/confirm/amzn1.sp.solution.x",
		AmazonState:       "st-1",
	}
	s, err := client.CreateSession(ctx, in)
	if err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	if s.SessionID != "cs_1" || s.ConnectURL != api.URL+"/connect?session=tok_1" || s.ExpiresAt.IsZero() {
		t.Errorf("session = %#v", s)
	}
	last := api.lastRequest()
	const wantBody = `{"end_user_id":"user 42","marketplace":"DE","account_type":"seller",` +
		`"return_url":"https://app.example/back?x=1",` +
		`"amazon_callback_uri":"https://sellercentral.amazon.de/apps/authorize/confirm/amzn1.sp.solution.x",` +
		`"amazon_state":"st-1"}`
	if last.method != http.MethodPost || last.path != "/connect/sessions" || string(last.body) != wantBody {
		t.Errorf("request = %s %s %s, want POST /connect/sessions %s", last.method, last.path, last.body, wantBody)
	}
	if last.contentType != "application/json" || last.accept != "application/json" {
		t.Errorf("Content-Type %q, Accept %q; want application/json", last.contentType, last.accept)
	}
	if last.identity.AccessKeyID != fakeKeyID || last.identity.AccountID != "123456789012" {
		t.Errorf("signed by %+v", last.identity)
	}

	// Only end_user_id is required, and empty fields are left out for the API to default.
	if _, err := client.CreateSession(ctx, connect.SessionInput{EndUserID: "u"}); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	if got := string(api.lastRequest().body); got != `{"end_user_id":"u"}` {
		t.Errorf("minimal body = %s", got)
	}
}

func TestSessionConnectionsDisconnect(t *testing.T) {
	api, client := newTestAPI(t)
	ctx := context.Background()

	s, err := client.CreateSession(ctx, connect.SessionInput{EndUserID: "user 1&x=y"})
	if err != nil {
		t.Fatal(err)
	}
	st, err := client.Session(ctx, s.SessionID)
	if err != nil {
		t.Fatalf("Session: %v", err)
	}
	if st.Status != connect.StatusPending || st.Status.Final() || st.SellingPartnerID != "" || st.EndUserID != "user 1&x=y" {
		t.Errorf("pending session = %+v", st)
	}

	resp, err := http.Get(s.ConnectURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	st, err = client.Session(ctx, s.SessionID)
	if err != nil {
		t.Fatalf("Session: %v", err)
	}
	want := connect.SessionStatus{SessionID: "cs_1", EndUserID: "user 1&x=y", Status: connect.StatusConnected,
		SellingPartnerID: fakeSeller, Region: "eu", AccountType: "seller", ExpiresAt: st.ExpiresAt}
	if st != want || !st.Status.Final() || st.ExpiresAt.IsZero() {
		t.Errorf("connected session = %+v, want %+v", st, want)
	}
	if last := api.lastRequest(); last.method != http.MethodGet || last.rawPath != "/connect/sessions/cs_1" || len(last.body) != 0 {
		t.Errorf("request = %s %s body %q", last.method, last.rawPath, last.body)
	}

	conns, err := client.Connections(ctx, "user 1&x=y")
	if err != nil {
		t.Fatalf("Connections: %v", err)
	}
	if last := api.lastRequest(); last.path != "/connections" || last.rawQuery != "end_user_id=user%201%26x%3Dy" {
		t.Errorf("request = %s?%s", last.path, last.rawQuery)
	}
	authorized := time.Date(2026, 12, 2, 10, 30, 0, 0, time.UTC)
	wantConn := connect.Connection{SellingPartnerID: fakeSeller, Region: "eu", AccountType: "seller",
		Status: connect.ConnectionActive, AuthorizedAt: authorized, ReauthorizeBy: authorized.AddDate(1, 0, 0)}
	if len(conns) != 1 || !conns[0].AuthorizedAt.Equal(wantConn.AuthorizedAt) ||
		!conns[0].ReauthorizeBy.Equal(wantConn.ReauthorizeBy) || conns[0].Status != wantConn.Status ||
		conns[0].SellingPartnerID != fakeSeller || conns[0].Region != "eu" || conns[0].AccountType != "seller" {
		t.Fatalf("connections = %+v, want [%+v]", conns, wantConn)
	}

	// The owner guard: another end user cannot disconnect the seller.
	err = client.Disconnect(ctx, fakeSeller, "eu", connect.WithEndUser("someone else"))
	if !errors.Is(err, connect.ErrConflict) || errors.Is(err, connect.ErrNotFound) {
		t.Fatalf("Disconnect of another user's seller = %v, want ErrConflict", err)
	}
	if last := api.lastRequest(); last.method != http.MethodDelete || last.rawPath != "/connections/A1EXAMPLE/eu" ||
		last.rawQuery != "end_user_id=someone%20else" {
		t.Errorf("request = %s %s?%s", last.method, last.rawPath, last.rawQuery)
	}
	if err := client.Disconnect(ctx, fakeSeller, "eu", connect.WithEndUser("user 1&x=y")); err != nil {
		t.Fatalf("Disconnect: %v", err)
	}
	conns, err = client.Connections(ctx, "user 1&x=y")
	if err != nil || conns == nil || len(conns) != 0 {
		t.Errorf("connections after disconnect = %#v, %v; want an empty list", conns, err)
	}
	// Without the guard, the query is left out; the connection is gone now.
	err = client.Disconnect(ctx, fakeSeller, "eu")
	if !errors.Is(err, connect.ErrNotFound) {
		t.Errorf("second Disconnect = %v, want ErrNotFound", err)
	}
	if last := api.lastRequest(); last.rawQuery != "" {
		t.Errorf("query without WithEndUser = %q", last.rawQuery)
	}
}

// TestPathEscaping checks that IDs are one path segment each, however they are spelled, and that
// the signature covers the escaped path the API receives.
func TestPathEscaping(t *testing.T) {
	api, client := newTestAPI(t)
	ctx := context.Background()

	// The fake's router answers with its own code only when the ID arrived as one segment.
	var apiErr *connect.APIError
	_, err := client.Session(ctx, "cs_1/x y?#")
	if !errors.As(err, &apiErr) || apiErr.Code != "session_not_found" {
		t.Fatalf("Session = %v, want session_not_found", err)
	}
	if got := api.lastRequest().rawPath; got != "/connect/sessions/cs_1%2Fx%20y%3F%23" {
		t.Errorf("path = %s", got)
	}

	err = client.Disconnect(ctx, "A1/B", "e u")
	if !errors.As(err, &apiErr) || apiErr.Code != "connection_not_found" {
		t.Fatalf("Disconnect = %v, want connection_not_found", err)
	}
	if got := api.lastRequest().rawPath; got != "/connections/A1%2FB/e%20u" {
		t.Errorf("path = %s", got)
	}

	if _, err := client.Session(ctx, ""); err == nil {
		t.Error("Session with an empty ID succeeded")
	}
	if err := client.Disconnect(ctx, "", "eu"); err == nil {
		t.Error("Disconnect with an empty seller succeeded")
	}
}

func TestAPIErrors(t *testing.T) {
	const token = "tok_SECRET"
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		want        connect.APIError
		is          error
		text        string // the whole Error() text, when checked
	}{
		{name: "not found", status: 404, body: `{"error":"session_not_found","message":"There is no such session."}`,
			want: connect.APIError{StatusCode: 404, Code: "session_not_found", Message: "There is no such session."},
			is:   connect.ErrNotFound, text: "connect: HTTP 404 session_not_found: There is no such session."},
		{name: "conflict", status: 409, body: `{"error":"connected_to_another_user","message":"The seller belongs to another user."}`,
			want: connect.APIError{StatusCode: 409, Code: "connected_to_another_user", Message: "The seller belongs to another user."},
			is:   connect.ErrConflict},
		{name: "invalid field", status: 422, body: `{"error":"unknown_marketplace","message":"Unknown marketplace.","field":"marketplace"}`,
			want: connect.APIError{StatusCode: 422, Code: "unknown_marketplace", Message: "Unknown marketplace.", Field: "marketplace"},
			text: "connect: HTTP 422 unknown_marketplace: Unknown marketplace. (field marketplace)"},
		{name: "bad request", status: 400, body: `{"error":"invalid_json","message":"The body is not JSON."}`,
			want: connect.APIError{StatusCode: 400, Code: "invalid_json", Message: "The body is not JSON."}},
		{name: "too large", status: 413, body: `{"error":"body_too_large","message":"Too large."}`,
			want: connect.APIError{StatusCode: 413, Code: "body_too_large", Message: "Too large."}},
		{name: "gateway refusal", status: 403, body: `{"message":"Forbidden"}`,
			want: connect.APIError{StatusCode: 403, Code: "http_403", Message: "Forbidden"}, is: connect.ErrForbidden},
		{name: "signature mismatch spells out the canonical request", status: 403,
			body: `{"message":"The request signature we calculated does not match the signature you provided.\n\n` +
				`The Canonical String for this request should have been\n'GET\n/connections\n\nx-amz-security-token:SESSIONTOKEN\n'"}`,
			want: connect.APIError{StatusCode: 403, Code: "http_403",
				Message: "The request signature we calculated does not match the signature you provided."},
			is: connect.ErrForbidden},
		{name: "not JSON", status: 502, contentType: "text/html", body: "<html>bad gateway " + token + "</html>",
			want: connect.APIError{StatusCode: 502, Code: "http_502", Message: "Bad Gateway"}},
		{name: "empty", status: 503,
			want: connect.APIError{StatusCode: 503, Code: "http_503", Message: "Service Unavailable"},
			text: "connect: HTTP 503 http_503: Service Unavailable"},
		{name: "long message", status: 500, body: `{"error":"internal_error","message":"` + strings.Repeat("é", 300) + `"}`,
			want: connect.APIError{StatusCode: 500, Code: "internal_error", Message: strings.Repeat("é", 128) + "…"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api, client := newTestAPI(t)
			if tc.contentType == "" {
				tc.contentType = "application/json"
			}
			api.answerNext(tc.status, tc.contentType, tc.body)
			_, err := client.Connections(context.Background(), "u")
			var apiErr *connect.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("error = %v, want an *APIError", err)
			}
			if *apiErr != tc.want {
				t.Errorf("APIError = %#v, want %#v", *apiErr, tc.want)
			}
			for _, sentinel := range []error{connect.ErrNotFound, connect.ErrConflict, connect.ErrForbidden} {
				if got := errors.Is(err, sentinel); got != (sentinel == tc.is) {
					t.Errorf("errors.Is(err, %v) = %v", sentinel, got)
				}
			}
			if tc.text != "" && err.Error() != tc.text {
				t.Errorf("Error() = %q, want %q", err, tc.text)
			}
			for _, secret := range []string{token, "SESSIONTOKEN"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("Error() = %q reveals %s", err, secret)
				}
			}
		})
	}
}

// TestUnknownTimes checks the API's "" for a time it does not know, as well as null and an
// absent field, all of which read as the zero time.
func TestUnknownTimes(t *testing.T) {
	api, client := newTestAPI(t)
	api.answerNext(200, "application/json", `[
		{"selling_partner_id":"A1","region":"eu","account_type":"seller","status":"reauthorization_required",
		 "authorized_at":"2026-01-02T03:04:05Z","reauthorize_by":""},
		{"selling_partner_id":"A2","region":"na","account_type":"vendor","status":"active",
		 "authorized_at":"2026-01-02T03:04:05.5+01:00","reauthorize_by":null},
		{"selling_partner_id":"A3","region":"fe","account_type":"seller","status":"active"}]`)
	conns, err := client.Connections(context.Background(), "u")
	if err != nil {
		t.Fatalf("Connections: %v", err)
	}
	if len(conns) != 3 || conns[0].Status != connect.ConnectionReauthorizationRequired {
		t.Fatalf("connections = %+v", conns)
	}
	for i, c := range conns {
		if !c.ReauthorizeBy.IsZero() {
			t.Errorf("%s: ReauthorizeBy = %v, want zero", c.SellingPartnerID, c.ReauthorizeBy)
		}
		if wantZero := i == 2; c.AuthorizedAt.IsZero() != wantZero {
			t.Errorf("%s: AuthorizedAt = %v", c.SellingPartnerID, c.AuthorizedAt)
		}
	}
	if want := time.Date(2026, 1, 2, 2, 4, 5, 5e8, time.UTC); !conns[1].AuthorizedAt.Equal(want) {
		t.Errorf("AuthorizedAt = %v, want %v", conns[1].AuthorizedAt, want)
	}
}

func TestRequestIDInError(t *testing.T) {
	_, client := newTestAPI(t, connect.WithRegion("us-east-1"))
	_, err := client.Connections(context.Background(), "u")
	var apiErr *connect.APIError
	if !errors.As(err, &apiErr) || apiErr.RequestID != "req-403" || !strings.Contains(err.Error(), "(request req-403)") {
		t.Errorf("error = %v, want one carrying request req-403", err)
	}
}

// TestBadResponses covers 2xx answers the client cannot use: their errors must not be API
// errors, and must not quote the connect URL.
func TestBadResponses(t *testing.T) {
	const token = "tok_SECRET"
	api, client := newTestAPI(t)
	ctx := context.Background()

	api.answerNext(201, "application/json", `{"session_id":"cs_1","connect_url":"https://x/connect?session=`+token+`","expires_at":"soon"}`)
	_, err := client.CreateSession(ctx, connect.SessionInput{EndUserID: "u"})
	var apiErr *connect.APIError
	if err == nil || errors.As(err, &apiErr) || strings.Contains(err.Error(), token) {
		t.Errorf("undecodable answer: error = %v", err)
	}

	api.answerNext(200, "application/json", `[`+strings.Repeat(`{"selling_partner_id":"A1EXAMPLE"},`, 40000)+`{}]`)
	_, err = client.Connections(ctx, "u")
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized answer: error = %v", err)
	}
}

// TestWronglySigned checks that the fake, which verifies like API Gateway, refuses requests
// signed with the wrong key, region or time, and that the client reports ErrForbidden.
func TestWronglySigned(t *testing.T) {
	tests := []struct {
		name  string
		creds aws.CredentialsProvider
		opts  []connect.Option
	}{
		{name: "wrong secret", creds: credentials.NewStaticCredentialsProvider(fakeKeyID, "not-the-secret", "")},
		{name: "unknown key", creds: credentials.NewStaticCredentialsProvider("AKIDUNKNOWN", fakeSecret, "")},
		{name: "other region", opts: []connect.Option{connect.WithRegion("us-east-1")}},
		{name: "clock ten minutes late", opts: []connect.Option{connect.WithClock(func() time.Time { return clock.Add(-10 * time.Minute) })}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := startFakeAPIWithClock(fixedClock)
			defer api.Close()
			cfg := testConfig()
			if tc.creds != nil {
				cfg.Credentials = tc.creds
			}
			client := connect.New(cfg, api.URL, append([]connect.Option{connect.WithClock(fixedClock)}, tc.opts...)...)
			_, err := client.CreateSession(context.Background(), connect.SessionInput{EndUserID: "u"})
			if !errors.Is(err, connect.ErrForbidden) {
				t.Fatalf("CreateSession = %v, want ErrForbidden", err)
			}
			if strings.Contains(err.Error(), fakeSecret) {
				t.Errorf("error %q reveals the secret", err)
			}
		})
	}
}

// recorder is an aws.HTTPClient that keeps the signed request and answers it itself.
type recorder struct {
	req    *http.Request
	body   []byte
	status int
	answer string
}

func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	r.req = req
	if req.Body != nil {
		r.body, _ = io.ReadAll(req.Body)
	}
	status := r.status
	if status == 0 {
		status = http.StatusOK
	}
	return &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(r.answer))}, nil
}

// TestBodyHashCoversBody checks that the signature covers the exact body sent: the request
// verifies with it, and not with any other body, whether the verifier is given the changed body
// or a proxy changes it on the way.
func TestBodyHashCoversBody(t *testing.T) {
	rec := &recorder{status: 201, answer: `{"session_id":"cs_1","connect_url":"https://x/connect?session=t","expires_at":"2026-12-02T11:30:00Z"}`}
	client := connect.New(testConfig(), "https://api.example", connect.WithHTTPClient(rec), connect.WithClock(fixedClock))
	if _, err := client.CreateSession(context.Background(), connect.SessionInput{EndUserID: "user-1"}); err != nil {
		t.Fatal(err)
	}
	v := &sigv4auth.Verifier{
		Lookup: func(string) (string, sigv4auth.Identity, bool) { return fakeSecret, sigv4auth.Identity{}, true },
		Region: fakeRegion,
		Now:    fixedClock,
	}
	if string(rec.body) != `{"end_user_id":"user-1"}` {
		t.Fatalf("body = %s", rec.body)
	}
	if _, err := v.Verify(rec.req, rec.body); err != nil {
		t.Fatalf("Verify with the body sent: %v", err)
	}
	if _, err := v.Verify(rec.req, []byte(`{"end_user_id":"user-2"}`)); !errors.Is(err, sigv4auth.ErrBadSignature) {
		t.Errorf("Verify with another body = %v, want ErrBadSignature", err)
	}

	// The same over the network: a proxy that swaps the body for one of the same length.
	api := startFakeAPIWithClock(fixedClock)
	defer api.Close()
	swap := &http.Client{Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
		body, _ := io.ReadAll(req.Body)
		body = []byte(strings.Replace(string(body), "user-1", "user-2", 1))
		req.Body = io.NopCloser(strings.NewReader(string(body)))
		return http.DefaultTransport.RoundTrip(req)
	})}
	client = connect.New(testConfig(), api.URL, connect.WithHTTPClient(swap), connect.WithClock(fixedClock))
	_, err := client.CreateSession(context.Background(), connect.SessionInput{EndUserID: "user-1"})
	if !errors.Is(err, connect.ErrForbidden) {
		t.Errorf("CreateSession through a body-swapping proxy = %v, want ErrForbidden", err)
	}
	// The control: the proxy passes everything else, so the refusal was the body's.
	if _, err := client.CreateSession(context.Background(), connect.SessionInput{EndUserID: "user-3"}); err != nil {
		t.Errorf("CreateSession through the proxy, body untouched: %v", err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestNew(t *testing.T) {
	ctx := context.Background()

	t.Run("trailing slash and base path", func(t *testing.T) {
		api := startFakeAPIWithClock(fixedClock)
		defer api.Close()
		for _, tc := range []struct{ url, path string }{
			{api.URL + "/", "/connections"},
			{api.URL + "/prod/", "/prod/connections"},
			{api.URL + "/prod", "/prod/connections"},
		} {
			api.answerNext(200, "application/json", "[]")
			client := connect.New(testConfig(), tc.url, connect.WithClock(fixedClock))
			if _, err := client.Connections(ctx, "u"); err != nil {
				t.Fatalf("%s: Connections: %v", tc.url, err)
			}
			if got := api.lastRequest().path; got != tc.path {
				t.Errorf("%s: path = %s, want %s", tc.url, got, tc.path)
			}
		}
	})

	t.Run("region", func(t *testing.T) {
		for _, tc := range []struct {
			cfgRegion, url string
			opts           []connect.Option
			want           string
		}{
			{"us-east-1", "https://abc123.execute-api.eu-central-1.amazonaws.com", nil, "eu-central-1"},
			{"", "https://abc123.execute-api.eu-central-1.amazonaws.com/", nil, "eu-central-1"},
			{"us-east-1", "https://connect.app.example", nil, "us-east-1"},
			{"us-east-1", "https://abc123.execute-api.eu-central-1.amazonaws.com", []connect.Option{connect.WithRegion("eu-west-3")}, "eu-west-3"},
		} {
			rec := &recorder{answer: "[]"}
			cfg := testConfig()
			cfg.Region = tc.cfgRegion
			client := connect.New(cfg, tc.url, append(tc.opts, connect.WithHTTPClient(rec))...)
			if _, err := client.Connections(ctx, "u"); err != nil {
				t.Fatalf("%s: %v", tc.url, err)
			}
			if got := rec.req.Header.Get("Authorization"); !strings.Contains(got, "/"+tc.want+"/execute-api/aws4_request") {
				t.Errorf("%s with cfg.Region %q: Authorization = %s, want region %s", tc.url, tc.cfgRegion, got, tc.want)
			}
		}
	})

	t.Run("cfg.HTTPClient", func(t *testing.T) {
		rec := &recorder{answer: "[]"}
		cfg := testConfig()
		cfg.HTTPClient = rec
		if _, err := connect.New(cfg, "https://api.example").Connections(ctx, "u"); err != nil || rec.req == nil {
			t.Fatalf("Connections = %v; cfg.HTTPClient used: %v", err, rec.req != nil)
		}
		if got := rec.req.URL.String(); got != "https://api.example/connections?end_user_id=u" {
			t.Errorf("URL = %s", got)
		}
	})

	t.Run("configuration errors", func(t *testing.T) {
		noCreds := testConfig()
		noCreds.Credentials = nil
		anonymous := testConfig()
		anonymous.Credentials = aws.AnonymousCredentials{}
		noRegion := testConfig()
		noRegion.Region = ""
		failing := testConfig()
		failing.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{}, errors.New("no SSO session")
		})
		for _, tc := range []struct {
			name string
			cfg  aws.Config
			url  string
		}{
			{"empty URL", testConfig(), ""},
			{"no scheme", testConfig(), "abc123.execute-api.eu-west-1.amazonaws.com"},
			{"other scheme", testConfig(), "ftp://api.example"},
			{"query", testConfig(), "https://api.example/?stage=prod"},
			{"no credentials", noCreds, "https://api.example"},
			{"anonymous credentials", anonymous, "https://api.example"},
			{"no region", noRegion, "https://api.example"},
			{"credentials fail", failing, "https://api.example"},
		} {
			rec := &recorder{answer: "[]"}
			_, err := connect.New(tc.cfg, tc.url, connect.WithHTTPClient(rec)).Connections(ctx, "u")
			if err == nil || rec.req != nil {
				t.Errorf("%s: error = %v, request sent: %v", tc.name, err, rec.req != nil)
			}
		}
	})
}

func TestNewSessionStringRedactsToken(t *testing.T) {
	s := connect.NewSession{SessionID: "cs_1", ConnectURL: "https://x.example/connect?session=tok_SECRET", ExpiresAt: clock}
	for _, got := range []string{s.String(), fmt.Sprintf("%v", s), fmt.Sprintf("%+v", &s)} {
		if strings.Contains(got, "tok_SECRET") || !strings.Contains(got, "cs_1") || !strings.Contains(got, "https://x.example/connect?REDACTED") {
			t.Errorf("formatted = %s", got)
		}
	}
}
