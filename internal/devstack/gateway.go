package devstack

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// invoker runs one function with an event.
type invoker interface {
	invoke(ctx context.Context, event []byte) ([]byte, error)
}

// Gateway is a local API Gateway HTTP API with payload format 2.0: each request becomes the event
// AWS would send, and the function's answer becomes the HTTP response.
type Gateway struct {
	routes map[string]invoker // "GET /callback" -> function
	logs   *Logs
	// extra serves paths that are no route of the template (the dev status page).
	extra http.Handler
	now   func() time.Time
}

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := r.Method + " " + r.URL.Path
	fn, ok := g.routes[key]
	if !ok {
		if r.Method == http.MethodHead {
			fn, ok = g.routes["GET "+r.URL.Path]
		}
	}
	if !ok {
		if g.extra != nil && strings.HasPrefix(r.URL.Path, "/_dev") {
			g.extra.ServeHTTP(w, r)
			return
		}
		writeGatewayError(w, http.StatusNotFound, "Not Found")
		return
	}
	event, err := toEvent(r, key, g.now())
	if err != nil {
		writeGatewayError(w, http.StatusBadRequest, "Bad Request")
		return
	}
	body, err := fn.invoke(r.Context(), event)
	if err != nil {
		g.logs.Line("gateway", key+": "+err.Error())
		writeGatewayError(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	if err := writeResponse(w, body); err != nil {
		g.logs.Line("gateway", key+": "+err.Error())
		writeGatewayError(w, http.StatusInternalServerError, "Internal Server Error")
	}
}

func writeGatewayError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `{"message":"`+msg+`"}`)
}

// toEvent builds the payload 2.0 event as API Gateway does: rawQueryString as sent, repeated
// query parameters and headers joined with commas, header names in lower case, the Cookie header
// moved to the cookies array.
func toEvent(r *http.Request, routeKey string, now time.Time) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	if err != nil {
		return nil, err
	}
	e := events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       routeKey,
		RawPath:        r.URL.EscapedPath(),
		RawQueryString: r.URL.RawQuery,
		Headers:        map[string]string{},
	}
	for name, values := range r.Header {
		n := strings.ToLower(name)
		if n == "cookie" {
			for _, v := range values {
				for c := range strings.SplitSeq(v, "; ") {
					if c != "" {
						e.Cookies = append(e.Cookies, c)
					}
				}
			}
			continue
		}
		e.Headers[n] = strings.Join(values, ",")
	}
	e.Headers["host"] = r.Host
	if r.ContentLength > 0 || len(body) > 0 {
		e.Headers["content-length"] = strconv.Itoa(len(body))
	}
	// x-forwarded-* as API Gateway adds them.
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	e.Headers["x-forwarded-for"] = ip
	e.Headers["x-forwarded-proto"] = "http"
	if _, port, err := net.SplitHostPort(r.Host); err == nil {
		e.Headers["x-forwarded-port"] = port
	}
	if r.URL.RawQuery != "" {
		q := r.URL.Query()
		e.QueryStringParameters = make(map[string]string, len(q))
		for k, v := range q {
			e.QueryStringParameters[k] = strings.Join(v, ",")
		}
	}
	if len(body) > 0 {
		if utf8.Valid(body) && !strings.Contains(r.Header.Get("Content-Type"), "octet-stream") {
			e.Body = string(body)
		} else {
			e.Body = base64.StdEncoding.EncodeToString(body)
			e.IsBase64Encoded = true
		}
	}
	id := make([]byte, 16)
	rand.Read(id)
	e.RequestContext = events.APIGatewayV2HTTPRequestContext{
		RouteKey:     routeKey,
		AccountID:    "123456789012",
		Stage:        "$default",
		RequestID:    hex.EncodeToString(id[:8]),
		APIID:        "devstack",
		DomainName:   r.Host,
		DomainPrefix: strings.Split(r.Host, ".")[0],
		Time:         now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
		TimeEpoch:    now.UnixMilli(),
		HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
			Method:    r.Method,
			Path:      r.URL.Path,
			Protocol:  r.Proto,
			SourceIP:  ip,
			UserAgent: r.UserAgent(),
		},
	}
	return json.Marshal(e)
}

// writeResponse maps the function's payload 2.0 answer to HTTP. An answer without statusCode is,
// as at AWS, a 200 JSON body.
func writeResponse(w http.ResponseWriter, body []byte) error {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(body, &probe); err != nil || probe["statusCode"] == nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
		return nil
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return errors.New("malformed Lambda proxy response")
	}
	h := w.Header()
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	out := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			return errors.New("malformed base64 body in Lambda proxy response")
		}
		out = b
	}
	if h.Get("Content-Type") == "" && len(out) > 0 {
		h.Set("Content-Type", "application/json")
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(out)
	return nil
}
