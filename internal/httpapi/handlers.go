package httpapi

import (
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
	// SuccessURL, when set, receives the seller after a successful callback (303 with
	// selling_partner_id and region); otherwise a built-in page thanks them.
	SuccessURL string
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
		return page(http.StatusOK, "landing", pageData{Title: "Connect your Amazon account", Regions: regions()}), nil
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
		return failure(ctx, h.Log, req, err, clear)
	}
	h.Log.InfoContext(ctx, "authorization stored", "selling_partner_id", done.SellingPartnerID,
		"region", done.Region, "account_type", done.AccountType)
	if h.SuccessURL != "" {
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

// successURL adds the outcome to the operator's success URL, keeping its own query.
func successURL(base string, done authflow.Completed) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", errors.New("SUCCESS_URL is not a URL")
	}
	q := u.Query()
	q.Set("selling_partner_id", done.SellingPartnerID)
	q.Set("region", done.Region)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
