package httpapi

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sellerauth/sellerauth/internal/authflow"
)

// AuthorizeFlow is what the authorize function's routes need of authflow.Service.
type AuthorizeFlow interface {
	Start(ctx context.Context, marketplace, accountType string) (authflow.Started, error)
	OpenSession(ctx context.Context, token string) (authflow.Opened, error)
}

// LoginFlow is what the login function's route needs of authflow.Service.
type LoginFlow interface {
	Login(ctx context.Context, r authflow.LoginRequest) (authflow.LoginResult, error)
}

// CallbackFlow is what the callback function's route needs of authflow.Service.
type CallbackFlow interface {
	Callback(ctx context.Context, r authflow.CallbackRequest) (authflow.Completed, error)
}

var (
	_ AuthorizeFlow = (*authflow.Service)(nil)
	_ LoginFlow     = (*authflow.Service)(nil)
	_ CallbackFlow  = (*authflow.Service)(nil)
)

// Handler serves one function's routes; template.yaml decides which function gets which route,
// and a route the function does not serve gets 404. Build one with NewAuthorize, NewLogin or
// NewCallback: each holds only its own flow, so a route mapped to the wrong function cannot reach
// a dependency that function was not given.
type Handler struct {
	log    *slog.Logger
	now    func() time.Time
	routes map[string]func(context.Context, events.APIGatewayV2HTTPRequest) response
}

// Common is what every browser-facing handler needs.
type Common struct {
	Log *slog.Logger
	Now func() time.Time
}

func newHandler(c Common, flow any) (*Handler, error) {
	if err := c.check(flow); err != nil {
		return nil, err
	}
	return &Handler{log: c.Log, now: c.Now, routes: map[string]func(context.Context, events.APIGatewayV2HTTPRequest) response{}}, nil
}

// check names every dependency a handler would be built without.
func (c Common) check(flow any) error {
	var missing []string
	if flow == nil {
		missing = append(missing, "flow")
	}
	if c.Log == nil {
		missing = append(missing, "logger")
	}
	if c.Now == nil {
		missing = append(missing, "clock")
	}
	if len(missing) > 0 {
		return fmt.Errorf("httpapi: handler without %s", strings.Join(missing, ", "))
	}
	return nil
}

// NewAuthorize serves the authorize function: GET /connect (a connect session's link) and, when
// anonymous is set, the public landing page GET / and GET /authorize; without it, those two say
// to start from the app.
func NewAuthorize(flow AuthorizeFlow, c Common, anonymous bool) (*Handler, error) {
	h, err := newHandler(c, flow)
	if err != nil {
		return nil, err
	}
	a := &authorizeRoutes{Handler: h, flow: flow}
	h.routes["GET /"] = func(ctx context.Context, req events.APIGatewayV2HTTPRequest) response {
		if !anonymous {
			return failure(ctx, h.log, req, authflow.ErrSessionRequired)
		}
		return page(http.StatusOK, "landing", pageData{Title: "Connect your Amazon account", Regions: regions()})
	}
	h.routes["GET /connect"] = a.connect
	h.routes["GET /authorize"] = a.authorize
	return h, nil
}

// NewLogin serves the login function: GET /login, Amazon's log-in step.
func NewLogin(flow LoginFlow, c Common) (*Handler, error) {
	h, err := newHandler(c, flow)
	if err != nil {
		return nil, err
	}
	h.routes["GET /login"] = (&loginRoutes{Handler: h, flow: flow}).login
	return h, nil
}

// NewCallback serves the callback function: GET /callback. successURL, when set, receives the
// seller after a successful callback: 303 with session_id and status for a session's flow (unless
// the session has its own return URL), with selling_partner_id and region for an anonymous one.
// Otherwise a built-in page thanks them.
func NewCallback(flow CallbackFlow, c Common, successURL string) (*Handler, error) {
	h, err := newHandler(c, flow)
	if err != nil {
		return nil, err
	}
	h.routes["GET /callback"] = (&callbackRoutes{Handler: h, flow: flow, successURL: successURL}).callback
	return h, nil
}

type authorizeRoutes struct {
	*Handler
	flow AuthorizeFlow
}

type loginRoutes struct {
	*Handler
	flow LoginFlow
}

type callbackRoutes struct {
	*Handler
	flow       CallbackFlow
	successURL string
}

// AnswerReserve is how long before the invocation's deadline every request gives up on its
// dependencies (LWA, DynamoDB, Secrets Manager) to answer anyway: a function that runs into its
// timeout sends the seller API Gateway's bare 5xx, without a page and without clearing the cookie.
const AnswerReserve = 2 * time.Second

// Handle serves the route key that API Gateway matched.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-AnswerReserve))
		defer cancel()
	}
	route, ok := h.routes[req.RouteKey]
	if !ok {
		return page(http.StatusNotFound, "error", pageData{Title: "Not found", Message: "There is nothing here."}), nil
	}
	return route(ctx, req), nil
}

func (h *authorizeRoutes) authorize(ctx context.Context, req events.APIGatewayV2HTTPRequest) response {
	q, err := parseQuery(req.RawQueryString, params{"marketplace": 32, "account_type": 16})
	if err != nil {
		return failure(ctx, h.log, req, err)
	}
	started, err := h.flow.Start(ctx, q["marketplace"], q["account_type"])
	if err != nil {
		return failure(ctx, h.log, req, err)
	}
	h.log.InfoContext(ctx, "authorization started", "marketplace", q["marketplace"], "account_type", q["account_type"])
	return redirect(http.StatusFound, started.ConsentURL, stateCookie(started.State, started.ExpiresAt.Sub(h.now())))
}

// connect opens a connect session's link in the seller's browser: the session is consumed and
// becomes the state bound to this browser's cookie.
func (h *authorizeRoutes) connect(ctx context.Context, req events.APIGatewayV2HTTPRequest) response {
	q, err := parseQuery(req.RawQueryString, params{"session": 128})
	if err != nil {
		return failure(ctx, h.log, req, err)
	}
	opened, err := h.flow.OpenSession(ctx, q["session"])
	if err != nil {
		return failure(ctx, h.log, req, err)
	}
	h.log.InfoContext(ctx, "connect session opened", "session_id", opened.SessionID)
	return redirect(http.StatusFound, opened.RedirectURL, stateCookie(opened.State, opened.ExpiresAt.Sub(h.now())))
}

func (h *loginRoutes) login(ctx context.Context, req events.APIGatewayV2HTTPRequest) response {
	q, err := parseQuery(req.RawQueryString, params{
		"amazon_callback_uri": 2048, "amazon_state": 2048, "selling_partner_id": 64, "version": 16,
	})
	if err != nil {
		return failure(ctx, h.log, req, err)
	}
	res, err := h.flow.Login(ctx, authflow.LoginRequest{
		CallbackURI:      q["amazon_callback_uri"],
		AmazonState:      q["amazon_state"],
		SellingPartnerID: q["selling_partner_id"],
		Version:          q["version"],
		Cookie:           readStateCookie(req.Cookies),
		Referrer:         req.Headers["referer"],
	})
	if err != nil {
		return failure(ctx, h.log, req, err)
	}
	var cookies []string
	if res.New != nil {
		cookies = append(cookies, stateCookie(res.New.State, res.New.ExpiresAt.Sub(h.now())))
	}
	h.log.InfoContext(ctx, "log-in step passed", "new_state", res.New != nil)
	return redirect(http.StatusFound, res.RedirectURL, cookies...)
}

func (h *callbackRoutes) callback(ctx context.Context, req events.APIGatewayV2HTTPRequest) response {
	clear := clearStateCookie()
	q, err := parseQuery(req.RawQueryString, params{
		"state": 128, "selling_partner_id": 64, "spapi_oauth_code": 512, "mws_auth_token": 512,
	})
	if err != nil {
		return failure(ctx, h.log, req, err, clear)
	}
	done, err := h.flow.Callback(ctx, authflow.CallbackRequest{
		State:            q["state"],
		Cookie:           readStateCookie(req.Cookies),
		SellingPartnerID: q["selling_partner_id"],
		Code:             q["spapi_oauth_code"],
		MWSAuthToken:     q["mws_auth_token"],
	})
	if err != nil {
		if done.SessionID != "" {
			h.log.WarnContext(ctx, "connect session failed", "session_id", done.SessionID, "end_user_id", done.EndUserID,
				"selling_partner_id", done.SellingPartnerID, "region", done.Region)
		}
		return failure(ctx, h.log, req, err, clear)
	}
	h.log.InfoContext(ctx, "authorization stored", "selling_partner_id", done.SellingPartnerID,
		"region", done.Region, "account_type", done.AccountType, "session_id", done.SessionID, "end_user_id", done.EndUserID)
	if done.SessionID != "" {
		// The app learns the outcome from GET /connect/sessions/{id}, never from this URL: it
		// carries no seller ID for anyone to type in.
		if back := cmp.Or(done.ReturnURL, h.successURL); back != "" {
			u, err := withQuery(back, url.Values{"session_id": {done.SessionID}, "status": {string(authflow.SessionConnected)}})
			if err != nil {
				return failure(ctx, h.log, req, err, clear)
			}
			return redirect(http.StatusSeeOther, u, clear)
		}
	} else if h.successURL != "" {
		u, err := successURL(h.successURL, done)
		if err != nil {
			return failure(ctx, h.log, req, err, clear)
		}
		return redirect(http.StatusSeeOther, u, clear)
	}
	return page(http.StatusOK, "success", pageData{
		Title: "Authorization complete", SellingPartnerID: done.SellingPartnerID, Region: done.Region,
	}, clear)
}

// successURL adds the outcome of an anonymous authorization to the operator's success URL.
func successURL(base string, done authflow.Completed) (string, error) {
	return withQuery(base, url.Values{"selling_partner_id": {done.SellingPartnerID}, "region": {done.Region}})
}

// withQuery sets parameters on a URL, keeping its own query.
func withQuery(base string, add url.Values) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", errors.New("the return URL is not a URL")
	}
	q := u.Query()
	for k, v := range add {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}
