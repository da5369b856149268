package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sellerauth/sellerauth/internal/authflow"
)

// panicFlow is a flow whose every step fails the test: a handler must not reach a step its
// function does not serve.
type panicFlow struct{ t *testing.T }

func (f panicFlow) Start(context.Context, string, string) (authflow.Started, error) {
	f.t.Fatal("Start reached")
	return authflow.Started{}, nil
}
func (f panicFlow) OpenSession(context.Context, string) (authflow.Opened, error) {
	f.t.Fatal("OpenSession reached")
	return authflow.Opened{}, nil
}
func (f panicFlow) Login(context.Context, authflow.LoginRequest) (authflow.LoginResult, error) {
	f.t.Fatal("Login reached")
	return authflow.LoginResult{}, nil
}
func (f panicFlow) Callback(context.Context, authflow.CallbackRequest) (authflow.Completed, error) {
	f.t.Fatal("Callback reached")
	return authflow.Completed{}, nil
}

// Routing lives in template.yaml: a route mapped to the wrong function gets 404 from it, never a
// step (and a dependency) that function was not wired for.
func TestEachHandlerServesOnlyItsOwnRoutes(t *testing.T) {
	c := Common{Log: slog.New(slog.DiscardHandler), Now: time.Now}
	flow := panicFlow{t}
	authorize, err := NewAuthorize(flow, c, true)
	if err != nil {
		t.Fatal(err)
	}
	login, err := NewLogin(flow, c)
	if err != nil {
		t.Fatal(err)
	}
	callback, err := NewCallback(flow, c, "")
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		h      *Handler
		routes []string
	}{
		"authorize": {authorize, []string{"GET /login", "GET /callback", "POST /connect/sessions"}},
		"login":     {login, []string{"GET /", "GET /connect", "GET /authorize", "GET /callback"}},
		"callback":  {callback, []string{"GET /", "GET /connect", "GET /authorize", "GET /login"}},
	} {
		for _, route := range tc.routes {
			res, err := tc.h.Handle(t.Context(), events.APIGatewayV2HTTPRequest{RouteKey: route})
			if err != nil || res.StatusCode != http.StatusNotFound {
				t.Errorf("%s handler, %s: status %d, error %v; want 404", name, route, res.StatusCode, err)
			}
		}
	}
	res, _ := authorize.Handle(t.Context(), events.APIGatewayV2HTTPRequest{RouteKey: "GET /"})
	if res.StatusCode != http.StatusOK {
		t.Errorf("authorize's own landing page: status %d", res.StatusCode)
	}
}

func TestConstructorsRefuseAMissingDependency(t *testing.T) {
	ok := Common{Log: slog.New(slog.DiscardHandler), Now: time.Now}
	for name, build := range map[string]func(Common) error{
		"authorize": func(c Common) error { _, err := NewAuthorize(nil, c, false); return err },
		"login":     func(c Common) error { _, err := NewLogin(nil, c); return err },
		"callback":  func(c Common) error { _, err := NewCallback(nil, c, ""); return err },
		"backend":   func(c Common) error { _, err := NewBackend(nil, c); return err },
	} {
		for _, c := range []Common{ok, {Now: time.Now}, {Log: ok.Log}} {
			err := build(c)
			if err == nil || !strings.Contains(err.Error(), "flow") {
				t.Errorf("%s without a flow (common %+v): error %v", name, c, err)
			}
		}
	}
	if _, err := NewLogin(panicFlow{t}, Common{Now: time.Now}); err == nil || !strings.Contains(err.Error(), "logger") {
		t.Errorf("a handler without a logger: error %v", err)
	}
	if _, err := NewCallback(panicFlow{t}, Common{Log: ok.Log}, ""); err == nil || !strings.Contains(err.Error(), "clock") {
		t.Errorf("a handler without a clock: error %v", err)
	}
}
