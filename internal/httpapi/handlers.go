package httpapi

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sellerauth/sellerauth/internal/authflow"
)

// Flow is the part of authflow.Service the handlers use.
type Flow interface {
	Start(ctx context.Context, marketplace, accountType string) (authflow.Started, error)
	OpenSession(ctx context.Context, token string) (authflow.Opened, error)
	Login(ctx context.Context, r authflow.LoginRequest) (authflow.LoginResult, error)
	Callback(ctx context.Context, r authflow.CallbackRequest) (authflow.Completed, error)
}

var _ Flow = (*authflow.Service)(nil)

// Handler serves the routes of template.yaml. One type serves every function; each function's
// main wires only the dependencies its routes use.
type Handler struct {
	Flow Flow
	Log  *slog.Logger
	Now  func() time.Time
	// SuccessURL, when set, receives the seller after a successful callback: 303 with session_id
	// and status for a session's flow (unless the session has its own return URL), with
	// selling_partner_id and region for an anonymous one. Otherwise a built-in page thanks them.
	SuccessURL string
	// Anonymous serves the public landing page; otherwise it says to start from the app.
	Anonymous bool
}

// AnswerReserve is how long before the invocation's deadline every request gives up on its
// dependencies (LWA, DynamoDB, Secrets Manager) to answer anyway: a function that runs into its
// timeout sends the seller API Gateway's bare 5xx, without a page and without clearing the cookie.
const AnswerReserve = 2 * time.Second

// Handle dispatches on the route key that API Gateway matched.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-AnswerReserve))
		defer cancel()
	}
	switch req.RouteKey {
	case "GET /":
		if !h.Anonymous {
			return failure(ctx, h.Log, req, authflow.ErrSessionRequired), nil
		}
		return page(http.StatusOK, "landing", pageData{Title: "Connect your Amazon account", Regions: regions()}), nil
	case "GET /connect":
		return h.connect(ctx, req), nil
	case "GET /authorize":
		return h.authorize(ctx, req), nil
	case "GET /login":
		return h.login(ctx, req), nil
	case "GET /callback":
		return h.callback(ctx, req), nil
	default:
		return page(http.StatusNotFound, "error", pageData{Title: "Not found",
			Message: "There is nothing here."}), nil
	}
}

func (h *Handler) authorize(ctx context.Context, req events.APIGatewayV2HTTPRequest) response {
	q, err := parseQuery(req.RawQueryString, params{"marketplace": 32, "account_type": 16})
	if err != nil {
		return failure(ctx, h.Log, req, err)
	}
	started, err := h.Flow.Start(ctx, q["marketplace"], q["account_type"])
	if err != nil {
		return failure(ctx, h.Log, req, err)
	}
	h.Log.InfoContext(ctx, "authorization started", "marketplace", q["marketplace"], "account_type", q["account_type"])
	return redirect(http.StatusFound, started.ConsentURL, stateCookie(started.State, started.ExpiresAt.Sub(h.Now())))
}

// connect opens a connect session's link in the seller's browser: the session is consumed and
// becomes the state bound to this browser's cookie.
func (h *Handler) connect(ctx context.Context, req events.APIGatewayV2HTTPRequest) response {
	q, err := parseQuery(req.RawQueryString, params{"session": 128})
	if err != nil {
		return failure(ctx, h.Log, req, err)
	}
	opened, err := h.Flow.OpenSession(ctx, q["session"])
	if err != nil {
		return failure(ctx, h.Log, req, err)
	}
	h.Log.InfoContext(ctx, "connect session opened", "session_id", opened.SessionID)
	return redirect(http.StatusFound, opened.RedirectURL, stateCookie(opened.State, opened.ExpiresAt.Sub(h.Now())))
}

func (h *Handler) login(ctx context.Context, req events.APIGatewayV2HTTPRequest) response {
	q, err := parseQuery(req.RawQueryString, params{
		"amazon_callback_uri": 2048, "amazon_state": 2048, "selling_partner_id": 64, "version": 16,
	})
	if err != nil {
		return failure(ctx, h.Log, req, err)
	}
	res, err := h.Flow.Login(ctx, authflow.LoginRequest{
		CallbackURI:      q["amazon_callback_uri"],
		AmazonState:      q["amazon_state"],
		SellingPartnerID: q["selling_partner_id"],
		Version:          q["version"],
		Cookie:           readStateCookie(req.Cookies),
		Referrer:         req.Headers["referer"],
	})
	if err != nil {
		return failure(ctx, h.Log, req, err)
	}
	var cookies []string
	if res.New != nil {
		cookies = append(cookies, stateCookie(res.New.State, res.New.ExpiresAt.Sub(h.Now())))
	}
	h.Log.InfoContext(ctx, "log-in step passed", "new_state", res.New != nil)
	return redirect(http.StatusFound, res.RedirectURL, cookies...)
}

func (h *Handler) callback(ctx context.Context, req events.APIGatewayV2HTTPRequest) response {
	clear := clearStateCookie()
	q, err := parseQuery(req.RawQueryString, params{
		"state": 128, "selling_partner_id": 64, "spapi_oauth_code": 512, "mws_auth_token": 512,
	})
	if err != nil {
		return failure(ctx, h.Log, req, err, clear)
	}
	done, err := h.Flow.Callback(ctx, authflow.CallbackRequest{
		State:            q["state"],
		Cookie:           readStateCookie(req.Cookies),
		SellingPartnerID: q["selling_partner_id"],
		Code:             q["spapi_oauth_code"],
		MWSAuthToken:     q["mws_auth_token"],
	})
	if err != nil {
		if done.SessionID != "" {
			h.Log.WarnContext(ctx, "connect session failed", "session_id", done.SessionID, "end_user_id", done.EndUserID,
				"selling_partner_id", done.SellingPartnerID, "region", done.Region)
		}
		return failure(ctx, h.Log, req, err, clear)
	}
	h.Log.InfoContext(ctx, "authorization stored", "selling_partner_id", done.SellingPartnerID,
		"region", done.Region, "account_type", done.AccountType, "session_id", done.SessionID, "end_user_id", done.EndUserID)
	if done.SessionID != "" {
		// The app learns the outcome from GET /connect/sessions/{id}, never from this URL: it
		// carries no seller ID for anyone to type in.
		if back := cmp.Or(done.ReturnURL, h.SuccessURL); back != "" {
			u, err := withQuery(back, url.Values{"session_id": {done.SessionID}, "status": {string(authflow.SessionConnected)}})
			if err != nil {
				return failure(ctx, h.Log, req, err, clear)
			}
			return redirect(http.StatusSeeOther, u, clear)
		}
	} else if h.SuccessURL != "" {
		u, err := successURL(h.SuccessURL, done)
		if err != nil {
			return failure(ctx, h.Log, req, err, clear)
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
