package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

type response = events.APIGatewayV2HTTPResponse

// contentSecurityPolicy allows our inline styles and nothing else: no scripts, no frames, no
// third-party loads, forms only to ourselves.
const contentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'"

func baseHeaders() map[string]string {
	return map[string]string{
		"Cache-Control":           "no-store",
		"Referrer-Policy":         "no-referrer",
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": contentSecurityPolicy,
	}
}

func redirect(status int, location string, cookies ...string) response {
	h := baseHeaders()
	h["Location"] = location
	return response{StatusCode: status, Headers: h, Cookies: cookies}
}

func page(status int, name string, d pageData, cookies ...string) response {
	body := render(name, d)
	h := baseHeaders()
	h["Content-Type"] = "text/html; charset=utf-8"
	return response{StatusCode: status, Headers: h, Body: body, Cookies: cookies}
}

// failure answers err with its problem page, or JSON when the client asks for it. Failures of
// our dependencies are logged with their cause (which never holds a secret); a seller's bad
// request is logged only by its code.
func failure(ctx context.Context, log *slog.Logger, req events.APIGatewayV2HTTPRequest, err error, cookies ...string) response {
	p := problemFor(err)
	if p.Status >= 500 {
		log.ErrorContext(ctx, "request failed", "route", req.RouteKey, "status", p.Status, "problem", p.Code, "error", err.Error())
	} else {
		log.WarnContext(ctx, "request refused", "route", req.RouteKey, "status", p.Status, "problem", p.Code)
	}
	if wantsJSON(req.Headers) {
		body, _ := json.Marshal(p) // a struct of strings always marshals
		h := baseHeaders()
		h["Content-Type"] = "application/json"
		return response{StatusCode: p.Status, Headers: h, Body: string(body), Cookies: cookies}
	}
	d := pageData{Title: http.StatusText(p.Status), Message: p.Message, ListMarketplaces: p.ListMarketplaces}
	if p.ListMarketplaces {
		d.Regions = regions()
	}
	return page(p.Status, "error", d, cookies...)
}

// wantsJSON reads Accept; payload 2.0 lowercases header names.
func wantsJSON(headers map[string]string) bool {
	return strings.Contains(headers["accept"], "application/json")
}
