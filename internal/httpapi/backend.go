package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sellerauth/sellerauth/internal/authflow"
)

// Backend is the part of authflow.Service the app's backend API uses.
type Backend interface {
	CreateSession(ctx context.Context, r authflow.SessionRequest) (authflow.CreatedSession, error)
	Session(ctx context.Context, id string) (authflow.Session, error)
	Connections(ctx context.Context, endUserID string) ([]authflow.Connection, error)
	Disconnect(ctx context.Context, sellingPartnerID, region, endUserID string) error
}

var _ Backend = (*authflow.Service)(nil)

// BackendHandler serves the app's backend API: JSON in and out, behind API Gateway's IAM
// authorizer. It refuses a request that did not pass that authorizer even if a route were
// misconfigured without it (defence in depth).
type BackendHandler struct {
	Backend Backend
	Log     *slog.Logger
	Now     func() time.Time
}

// NewBackend serves the connect-api function's routes.
func NewBackend(b Backend, c Common) (*BackendHandler, error) {
	if err := c.check(b); err != nil {
		return nil, err
	}
	return &BackendHandler{Backend: b, Log: c.Log, Now: c.Now}, nil
}

// maxBodyBytes bounds a request body: a session request is a few hundred bytes.
const maxBodyBytes = 16 << 10

// apiError is the JSON error of the backend API: a stable code, a sentence, and the field at
// fault. It never holds a token, a session secret or internal error text.
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"error"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// Handle dispatches on the route key that API Gateway matched.
func (h *BackendHandler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-AnswerReserve))
		defer cancel()
	}
	if a := req.RequestContext.Authorizer; a == nil || a.IAM == nil || a.IAM.AccessKey == "" {
		h.Log.WarnContext(ctx, "backend request without IAM authorization refused", "route", req.RouteKey)
		return jsonError(apiError{http.StatusForbidden, "forbidden", "This API needs SigV4-signed requests through the IAM authorizer.", ""}), nil
	}
	caller := req.RequestContext.Authorizer.IAM.UserARN
	switch req.RouteKey {
	case "POST /connect/sessions":
		return h.createSession(ctx, req, caller), nil
	case "GET /connect/sessions/{session_id}":
		return h.session(ctx, req), nil
	case "GET /connections":
		return h.connections(ctx, req), nil
	case "DELETE /connections/{selling_partner_id}/{region}":
		return h.disconnect(ctx, req, caller), nil
	default:
		return jsonError(apiError{http.StatusNotFound, "not_found", "There is no such route.", ""}), nil
	}
}

type sessionRequestJSON struct {
	EndUserID         string `json:"end_user_id"`
	Marketplace       string `json:"marketplace"`
	AccountType       string `json:"account_type"`
	ReturnURL         string `json:"return_url"`
	AmazonCallbackURI string `json:"amazon_callback_uri"`
	AmazonState       string `json:"amazon_state"`
}

type createdSessionJSON struct {
	SessionID  string `json:"session_id"`
	ConnectURL string `json:"connect_url"`
	ExpiresAt  string `json:"expires_at"`
}

func (h *BackendHandler) createSession(ctx context.Context, req events.APIGatewayV2HTTPRequest, caller string) response {
	var in sessionRequestJSON
	if e := decodeStrict(req, &in); e != nil {
		return h.refuse(ctx, req, *e)
	}
	created, err := h.Backend.CreateSession(ctx, authflow.SessionRequest{
		EndUserID:         in.EndUserID,
		Marketplace:       in.Marketplace,
		AccountType:       in.AccountType,
		ReturnURL:         in.ReturnURL,
		AmazonCallbackURI: in.AmazonCallbackURI,
		AmazonState:       in.AmazonState,
		BaseURL:           baseURL(req),
	})
	if err != nil {
		return h.fail(ctx, req, err)
	}
	h.Log.InfoContext(ctx, "connect session created", "session_id", created.ID, "end_user_id", in.EndUserID, "caller", caller)
	return jsonResponse(http.StatusCreated, createdSessionJSON{
		SessionID:  created.ID,
		ConnectURL: created.ConnectURL,
		ExpiresAt:  created.ExpiresAt.UTC().Format(time.RFC3339),
	})
}

type sessionJSON struct {
	SessionID        string `json:"session_id"`
	EndUserID        string `json:"end_user_id"`
	Status           string `json:"status"`
	SellingPartnerID string `json:"selling_partner_id,omitempty"`
	Region           string `json:"region,omitempty"`
	AccountType      string `json:"account_type,omitempty"`
	Error            string `json:"error,omitempty"`
	ExpiresAt        string `json:"expires_at"`
}

func (h *BackendHandler) session(ctx context.Context, req events.APIGatewayV2HTTPRequest) response {
	sess, err := h.Backend.Session(ctx, req.PathParameters["session_id"])
	if err != nil {
		return h.fail(ctx, req, err)
	}
	out := sessionJSON{
		SessionID: sess.ID,
		EndUserID: sess.EndUserID,
		Status:    string(sess.Reported(h.Now())),
		ExpiresAt: sess.ConnectBy.UTC().Format(time.RFC3339),
	}
	switch sess.Status {
	case authflow.SessionConnected:
		out.SellingPartnerID, out.Region, out.AccountType = sess.SellingPartnerID, string(sess.Region), string(sess.AccountType)
	case authflow.SessionFailed:
		out.Error = sess.Error
	}
	return jsonResponse(http.StatusOK, out)
}

type connectionJSON struct {
	SellingPartnerID string `json:"selling_partner_id"`
	Region           string `json:"region"`
	AccountType      string `json:"account_type"`
	Status           string `json:"status"`
	AuthorizedAt     string `json:"authorized_at"`
	ReauthorizeBy    string `json:"reauthorize_by"`
}

func (h *BackendHandler) connections(ctx context.Context, req events.APIGatewayV2HTTPRequest) response {
	q, err := backendQuery(req.RawQueryString)
	if err != nil {
		return h.fail(ctx, req, err)
	}
	if q["end_user_id"] == "" {
		return h.refuse(ctx, req, apiError{http.StatusBadRequest, "invalid_request", "end_user_id is required.", "end_user_id"})
	}
	list, err := h.Backend.Connections(ctx, q["end_user_id"])
	if err != nil {
		return h.fail(ctx, req, err)
	}
	out := make([]connectionJSON, 0, len(list))
	for _, c := range list {
		out = append(out, connectionJSON{
			SellingPartnerID: c.SellingPartnerID,
			Region:           string(c.Region),
			AccountType:      string(c.AccountType),
			Status:           c.Status,
			AuthorizedAt:     rfc3339(c.AuthorizedAt),
			ReauthorizeBy:    rfc3339(c.ReauthorizeBy),
		})
	}
	return jsonResponse(http.StatusOK, out)
}

func (h *BackendHandler) disconnect(ctx context.Context, req events.APIGatewayV2HTTPRequest, caller string) response {
	q, err := backendQuery(req.RawQueryString)
	if err != nil {
		return h.fail(ctx, req, err)
	}
	seller, region := req.PathParameters["selling_partner_id"], req.PathParameters["region"]
	if err := h.Backend.Disconnect(ctx, seller, region, q["end_user_id"]); err != nil {
		return h.fail(ctx, req, err)
	}
	h.Log.InfoContext(ctx, "connection removed", "selling_partner_id", seller, "region", region, "caller", caller)
	res := jsonResponse(http.StatusNoContent, nil)
	res.Body = ""
	delete(res.Headers, "Content-Type")
	return res
}

// fail answers an error of the flow as a JSON error.
func (h *BackendHandler) fail(ctx context.Context, req events.APIGatewayV2HTTPRequest, err error) response {
	var field *authflow.FieldError
	var input *authflow.InputError
	switch {
	case errors.As(err, &field):
		return h.refuse(ctx, req, apiError{http.StatusUnprocessableEntity, "invalid_value",
			field.Field + " " + field.Reason + ".", field.Field})
	case errors.As(err, &input):
		return h.refuse(ctx, req, apiError{http.StatusBadRequest, "invalid_request",
			input.Param + " " + input.Reason + ".", input.Param})
	case errors.Is(err, authflow.ErrSessionNotFound):
		return h.refuse(ctx, req, apiError{http.StatusNotFound, "session_not_found", "No session has that ID.", ""})
	case errors.Is(err, authflow.ErrConnectionNotFound):
		return h.refuse(ctx, req, apiError{http.StatusNotFound, "connection_not_found",
			"No connection for that selling partner and region.", ""})
	case errors.Is(err, authflow.ErrConnectedToAnotherUser):
		return h.refuse(ctx, req, apiError{http.StatusConflict, "connected_to_another_user",
			"That connection belongs to another end user.", "end_user_id"})
	}
	p := problemFor(err)
	h.Log.ErrorContext(ctx, "request failed", "route", req.RouteKey, "status", p.Status, "problem", p.Code, "error", err.Error())
	return jsonError(apiError{Status: p.Status, Code: p.Code, Message: p.Message})
}

func (h *BackendHandler) refuse(ctx context.Context, req events.APIGatewayV2HTTPRequest, e apiError) response {
	h.Log.WarnContext(ctx, "request refused", "route", req.RouteKey, "status", e.Status, "problem", e.Code, "field", e.Field)
	return jsonError(e)
}

// backendQuery reads end_user_id from rawQueryString. Unlike the seller's routes it lets a value
// hold a comma (an end_user_id may): only rawQueryString is read, never API Gateway's
// comma-joined view, and a repeated parameter is refused.
func backendQuery(raw string) (map[string]string, error) {
	values, err := url.ParseQuery(raw)
	if err != nil || len(raw) > maxQueryLen {
		return nil, &authflow.InputError{Param: "query", Reason: "malformed"}
	}
	out := map[string]string{}
	if vs, ok := values["end_user_id"]; ok {
		if len(vs) > 1 {
			return nil, &authflow.InputError{Param: "end_user_id", Reason: "repeated"}
		}
		out["end_user_id"] = vs[0]
	}
	return out, nil
}

// decodeStrict reads the JSON body into v: one object, no unknown fields, nothing after it, at
// most maxBodyBytes; strings only where strings are expected.
func decodeStrict(req events.APIGatewayV2HTTPRequest, v any) *apiError {
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return &apiError{http.StatusBadRequest, "invalid_json", "The body is not valid base64.", ""}
		}
		body = b
	}
	if len(body) > maxBodyBytes {
		return &apiError{http.StatusRequestEntityTooLarge, "body_too_large",
			fmt.Sprintf("The body is larger than %d bytes.", maxBodyBytes), ""}
	}
	if ct := req.Headers["content-type"]; ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return &apiError{http.StatusUnsupportedMediaType, "unsupported_media_type", "Send application/json.", ""}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr):
			return &apiError{http.StatusBadRequest, "invalid_json", typeErr.Field + " must be a " + typeErr.Type.String() + ".", typeErr.Field}
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return &apiError{http.StatusBadRequest, "unknown_field", "Unknown field " + field + ".", field}
		case errors.Is(err, io.EOF):
			return &apiError{http.StatusBadRequest, "invalid_json", "The body is empty; send a JSON object.", ""}
		default:
			return &apiError{http.StatusBadRequest, "invalid_json", "The body is not a JSON object.", ""}
		}
	}
	if dec.More() {
		return &apiError{http.StatusBadRequest, "invalid_json", "The body has data after the JSON object.", ""}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &apiError{http.StatusBadRequest, "invalid_json", "The body has data after the JSON object.", ""}
	}
	return nil
}

// baseURL is where this API is served, from the request API Gateway answered: the connect URL
// is on the same domain (an execute-api host, or a custom domain). Plain http only on loopback,
// for the local stack.
func baseURL(req events.APIGatewayV2HTTPRequest) string {
	host := req.RequestContext.DomainName
	if host == "" {
		host = req.Headers["host"]
	}
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	if ip := net.ParseIP(name); name == "localhost" || ip != nil && ip.IsLoopback() {
		return "http://" + host
	}
	return "https://" + host
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func jsonResponse(status int, v any) response {
	h := map[string]string{"Cache-Control": "no-store", "Content-Type": "application/json"}
	body, err := json.Marshal(v)
	if err != nil {
		return jsonError(apiError{http.StatusInternalServerError, "internal_error", "Something went wrong on our side.", ""})
	}
	return response{StatusCode: status, Headers: h, Body: string(body)}
}

func jsonError(e apiError) response {
	body, _ := json.Marshal(e) // a struct of strings always marshals
	return response{StatusCode: e.Status, Headers: map[string]string{"Cache-Control": "no-store", "Content-Type": "application/json"}, Body: string(body)}
}
