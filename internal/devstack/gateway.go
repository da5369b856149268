package devstack

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sellerauth/sellerauth/internal/samtemplate"
	"github.com/sellerauth/sellerauth/internal/sigv4auth"
)

// invoker runs one function with an event.
type invoker interface {
	invoke(ctx context.Context, event []byte) ([]byte, error)
}

// maxPayload is API Gateway's limit on a request body (HTTP APIs: 10 MB).
const maxPayload = 10 << 20

// Gateway is a local API Gateway HTTP API with payload format 2.0: each request becomes the event
// AWS would send, and the function's answer becomes the HTTP response. Routes behind the IAM
// authorizer take only requests signed with the dev credentials (credentials.go).
type Gateway struct {
	routes []gatewayRoute
	// iam checks the SigV4 signature of requests to IAM-authorized routes.
	iam  *sigv4auth.Verifier
	logs *Logs
	// extra serves paths that are no route of the template (the dev status page).
	extra http.Handler
	now   func() time.Time
}

// gatewayRoute is a route of the template with the function behind it.
type gatewayRoute struct {
	samtemplate.Route
	// segments is Path split at "/": literals, "{name}" (one segment) or a final "{name+}" (the rest).
	segments []string
	fn       invoker
}

// newGateway routes each function's HttpApi events to it.
func newGateway(fns map[string]*lambdaFunc, iam *sigv4auth.Verifier, logs *Logs, extra http.Handler) *Gateway {
	g := &Gateway{iam: iam, logs: logs, extra: extra, now: time.Now}
	for _, lf := range fns {
		for _, r := range lf.Routes {
			g.add(r, lf)
		}
	}
	return g
}

func (g *Gateway) add(r samtemplate.Route, fn invoker) {
	g.routes = append(g.routes, gatewayRoute{Route: r, segments: strings.Split(strings.TrimPrefix(r.Path, "/"), "/"), fn: fn})
}

// match finds the route of a request as API Gateway selects it: the most specific match wins
// (more literal segments first, a greedy {name+} last, an exact method before ANY). Path
// parameters are the matched segments, percent-decoded; a segment is split off before decoding,
// so an encoded slash stays inside its parameter.
func (g *Gateway) match(method, escapedPath string) (*gatewayRoute, map[string]string) {
	segs := strings.Split(strings.TrimPrefix(escapedPath, "/"), "/")
	var best *gatewayRoute
	var bestParams map[string]string
	bestScore := -1
	for i := range g.routes {
		rt := &g.routes[i]
		if rt.Method != method && rt.Method != "ANY" {
			continue
		}
		params, literals, greedy, ok := matchSegments(rt.segments, segs)
		if !ok {
			continue
		}
		score := literals * 4
		if !greedy {
			score += 2
		}
		if rt.Method == method {
			score++
		}
		if score > bestScore {
			best, bestParams, bestScore = rt, params, score
		}
	}
	return best, bestParams
}

func matchSegments(pattern, segs []string) (params map[string]string, literals int, greedy, ok bool) {
	for i, p := range pattern {
		name, isParam := strings.CutPrefix(p, "{")
		if !isParam {
			if i >= len(segs) || segs[i] != p {
				return nil, 0, false, false
			}
			literals++
			continue
		}
		name = strings.TrimSuffix(name, "}")
		if params == nil {
			params = map[string]string{}
		}
		if g, isGreedy := strings.CutSuffix(name, "+"); isGreedy && i == len(pattern)-1 {
			rest := strings.Join(segs[min(i, len(segs)):], "/")
			v, err := url.PathUnescape(rest)
			if rest == "" || err != nil {
				return nil, 0, false, false
			}
			params[g] = v
			return params, literals, true, true
		}
		if i >= len(segs) || segs[i] == "" {
			return nil, 0, false, false
		}
		v, err := url.PathUnescape(segs[i])
		if err != nil {
			return nil, 0, false, false
		}
		params[name] = v
	}
	if len(segs) != len(pattern) {
		return nil, 0, false, false
	}
	return params, literals, false, true
}

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := randomHex(8)
	// API Gateway names its request in every answer; the connect client quotes it in errors.
	w.Header().Set("Apigw-Requestid", requestID)
	rt, params := g.match(r.Method, r.URL.EscapedPath())
	if rt == nil && r.Method == http.MethodHead {
		rt, params = g.match(http.MethodGet, r.URL.EscapedPath())
	}
	if rt == nil {
		if g.extra != nil && strings.HasPrefix(r.URL.Path, "/_dev") {
			w.Header().Del("Apigw-Requestid")
			g.extra.ServeHTTP(w, r)
			return
		}
		writeGatewayError(w, http.StatusNotFound, "Not Found")
		return
	}
	key := rt.Key()
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
	switch {
	case err != nil:
		writeGatewayError(w, http.StatusBadRequest, "Bad Request")
		return
	case len(body) > maxPayload:
		writeGatewayError(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}
	m := matched{routeKey: key, pathParameters: params, requestID: requestID}
	if rt.IAM {
		// The IAM authorizer answers before any function runs: a refused request never reaches it.
		id, err := g.iam.Verify(r, body)
		if err != nil {
			// sigv4auth's errors name what did not match, never a secret or a signature.
			g.logs.Line("gateway", key+": IAM authorizer refused the request: "+err.Error())
			writeGatewayError(w, http.StatusForbidden, "Forbidden")
			return
		}
		m.iam = id.IAM()
	}
	event, err := toEvent(r, body, m, g.now())
	if err != nil {
		writeGatewayError(w, http.StatusBadRequest, "Bad Request")
		return
	}
	out, err := rt.fn.invoke(r.Context(), event)
	if err != nil {
		g.logs.Line("gateway", key+": "+err.Error())
		writeGatewayError(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	if err := writeResponse(w, out); err != nil {
		g.logs.Line("gateway", key+": "+err.Error())
		writeGatewayError(w, http.StatusInternalServerError, "Internal Server Error")
	}
}

func writeGatewayError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `{"message":"`+msg+`"}`)
}

// matched is what routing and the authorizer learned about a request.
type matched struct {
	routeKey       string
	pathParameters map[string]string
	requestID      string
	// iam is the signer of a request to an IAM-authorized route.
	iam *events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription
}

// textBody reports whether API Gateway passes a body of this Content-Type as text: only text/*,
// application/json, application/xml and application/javascript; everything else, a missing
// Content-Type and form posts included, arrives base64-encoded with isBase64Encoded.
func textBody(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"), mt == "application/json", mt == "application/xml", mt == "application/javascript":
		return true
	}
	return false
}

// toEvent builds the payload 2.0 event as API Gateway does: rawQueryString as sent, repeated
// query parameters and headers joined with commas, header names in lower case, the Cookie header
// moved to the cookies array, path parameters, and the signer of an IAM-authorized request.
func toEvent(r *http.Request, body []byte, m matched, now time.Time) ([]byte, error) {
	e := events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       m.routeKey,
		RawPath:        r.URL.EscapedPath(),
		RawQueryString: r.URL.RawQuery,
		Headers:        map[string]string{},
		PathParameters: m.pathParameters,
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
		if textBody(r.Header.Get("Content-Type")) && utf8.Valid(body) {
			e.Body = string(body)
		} else {
			e.Body = base64.StdEncoding.EncodeToString(body)
			e.IsBase64Encoded = true
		}
	}
	requestID := m.requestID
	if requestID == "" {
		requestID = randomHex(8)
	}
	e.RequestContext = events.APIGatewayV2HTTPRequestContext{
		RouteKey:  m.routeKey,
		AccountID: AccountID,
		Stage:     "$default",
		RequestID: requestID,
		APIID:     "devstack",
		// The host the browser (or the backend) used: the connect API builds connect_url from it.
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
	if m.iam != nil {
		e.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{IAM: m.iam}
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
