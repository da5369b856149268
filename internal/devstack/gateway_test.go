package devstack

import (
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

func TestToEvent(t *testing.T) {
	r := httptest.NewRequest("GET", "http://127.0.0.1:3000/callback?state=a%2Bb&x=1&x=2&empty=", nil)
	r.Header.Add("Cookie", "__Host-spapi_oauth_state=abc; other=1")
	r.Header.Add("Accept", "text/html")
	r.Header.Add("X-Multi", "a")
	r.Header.Add("X-Multi", "b")
	b, err := toEvent(r, "GET /callback", time.Unix(1700000000, 0))
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
	if rc.HTTP.Method != "GET" || rc.HTTP.Path != "/callback" || rc.Stage != "$default" || rc.TimeEpoch != 1700000000000 || rc.RequestID == "" {
		t.Errorf("requestContext %+v", rc)
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
