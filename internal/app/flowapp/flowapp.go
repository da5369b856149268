// Package flowapp wires the authorize and login functions: the seller-facing half of the flow
// that needs only the state table. It is apart from package app so that the functions which do
// not serve these routes (callback, refresh, rotate-secret) do not link what they do not use; each
// linked package's init runs on every cold start.
package flowapp

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/sellerauth/sellerauth/internal/amazon"
	"github.com/sellerauth/sellerauth/internal/app"
	"github.com/sellerauth/sellerauth/internal/authflow"
	"github.com/sellerauth/sellerauth/internal/dynamo"
	"github.com/sellerauth/sellerauth/internal/httpapi"
)

// NewAuthorize wires the authorize function (GET /connect; GET / and GET /authorize).
func NewAuthorize(r app.Runtime) (*httpapi.Handler, error) { return newFlowHandler(r) }

// NewLogin wires the login function (GET /login).
func NewLogin(r app.Runtime) (*httpapi.Handler, error) { return newFlowHandler(r) }

func newFlowHandler(r app.Runtime) (*httpapi.Handler, error) {
	c, err := loadFlowConfig(r.Getenv)
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	db := dynamodb.NewFromConfig(r.AWS)
	svc := &authflow.Service{
		Consent:            c.Consent,
		DefaultMarketplace: c.DefaultMarketplace,
		StateTTL:           c.StateTTL,
		Now:                r.Clock(),
		Random:             rand.Reader,
		States:             &dynamo.StateStore{Client: db, Table: c.StateTable},
		Sessions:           &dynamo.SessionStore{Client: db, Table: c.SessionTable},
		Anonymous:          c.Anonymous,
		AppSignInURL:       c.AppSignInURL,
	}
	return &httpapi.Handler{Flow: svc, Log: r.Log, Now: r.Clock(), Anonymous: c.Anonymous}, nil
}

// NewConnectAPI wires the connect-api function: the app's backend API (connect sessions,
// connections), which needs the session table and the token table's end-user index.
func NewConnectAPI(r app.Runtime) (*httpapi.BackendHandler, error) {
	var errs []error
	getenv := r.Getenv
	c := struct {
		SessionTable, TokenTable string
		Marketplace              amazon.Marketplace
		ReturnURLs               authflow.ReturnURLs
		SessionTTL               time.Duration
		OriginOverride           string
	}{SessionTable: getenv("SESSION_TABLE_NAME"), TokenTable: getenv("TOKEN_TABLE_NAME")}
	if c.SessionTable == "" {
		errs = append(errs, errors.New("SESSION_TABLE_NAME is required"))
	}
	if c.TokenTable == "" {
		errs = append(errs, errors.New("TOKEN_TABLE_NAME is required"))
	}
	var err error
	c.Marketplace, err = defaultMarketplace(getenv)
	errs = append(errs, err)
	if c.ReturnURLs, err = authflow.ParseReturnURLs(getenv("ALLOWED_RETURN_URLS")); err != nil {
		errs = append(errs, fmt.Errorf("ALLOWED_RETURN_URLS: %w", err))
	}
	ttl, err := app.Int(getenv, "CONNECT_SESSION_TTL_SECONDS", 1800, 60, 86400)
	errs = append(errs, err)
	c.SessionTTL = time.Duration(ttl) * time.Second
	c.OriginOverride, err = originOverride(getenv)
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	db := dynamodb.NewFromConfig(r.AWS)
	svc := &authflow.Service{
		Consent:            amazon.Consent{OriginOverride: c.OriginOverride},
		DefaultMarketplace: c.Marketplace,
		Now:                r.Clock(),
		Random:             rand.Reader,
		Sessions:           &dynamo.SessionStore{Client: db, Table: c.SessionTable},
		ConnectionStore:    &dynamo.TokenStore{Client: db, Table: c.TokenTable, Now: r.Clock()},
		SessionTTL:         c.SessionTTL,
		ReturnURLs:         c.ReturnURLs,
	}
	return &httpapi.BackendHandler{Backend: svc, Log: r.Log, Now: r.Clock()}, nil
}

// originOverride reads the optional AMAZON_CONSENT_ORIGIN (the sandbox's stand-in for every
// Seller and Vendor Central origin).
func originOverride(getenv app.Getenv) (string, error) {
	v := getenv("AMAZON_CONSENT_ORIGIN")
	if v == "" {
		return "", nil
	}
	if err := amazon.CheckOriginOverride(v); err != nil {
		return "", fmt.Errorf("AMAZON_CONSENT_ORIGIN must be an origin such as http://127.0.0.1:9000: %w", err)
	}
	return strings.TrimSuffix(v, "/"), nil
}

func defaultMarketplace(getenv app.Getenv) (amazon.Marketplace, error) {
	mp := getenv("DEFAULT_MARKETPLACE")
	if mp == "" {
		mp = "US"
	}
	m, ok := amazon.LookupMarketplace(mp)
	if !ok {
		return m, fmt.Errorf("DEFAULT_MARKETPLACE: unknown marketplace %q", mp)
	}
	return m, nil
}

// flowConfig is the environment of the authorize and login functions.
type flowConfig struct {
	Consent            amazon.Consent
	DefaultMarketplace amazon.Marketplace
	StateTTL           time.Duration
	StateTable         string
	SessionTable       string
	Anonymous          bool
	AppSignInURL       string
}

func loadFlowConfig(getenv app.Getenv) (flowConfig, error) {
	var c flowConfig
	var errs []error
	c.Consent.ApplicationID = getenv("APPLICATION_ID")
	if err := amazon.CheckApplicationID(c.Consent.ApplicationID); err != nil {
		errs = append(errs, fmt.Errorf("APPLICATION_ID: %w", err))
	}
	switch v := getenv("APP_DRAFT"); v {
	case "true":
		c.Consent.Draft = true
	case "", "false":
	default:
		errs = append(errs, fmt.Errorf("APP_DRAFT must be true or false, not %q", v))
	}
	if v := getenv("REDIRECT_URI"); v != "" {
		if err := app.CheckRedirectURI(v); err != nil {
			errs = append(errs, fmt.Errorf("REDIRECT_URI: %w", err))
		}
		c.Consent.RedirectURI = v
	}
	var err error
	c.Consent.OriginOverride, err = originOverride(getenv)
	errs = append(errs, err)
	m, err := defaultMarketplace(getenv)
	errs = append(errs, err)
	c.DefaultMarketplace = m
	c.StateTTL = 900 * time.Second
	if v := getenv("STATE_TTL_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 60 || n > 3600 {
			errs = append(errs, fmt.Errorf("STATE_TTL_SECONDS must be a whole number from 60 to 3600, not %q", v))
		}
		c.StateTTL = time.Duration(n) * time.Second
	}
	c.StateTable = getenv("STATE_TABLE_NAME")
	if c.StateTable == "" {
		errs = append(errs, errors.New("STATE_TABLE_NAME is required"))
	}
	c.SessionTable = getenv("SESSION_TABLE_NAME")
	if c.SessionTable == "" {
		errs = append(errs, errors.New("SESSION_TABLE_NAME is required"))
	}
	c.Anonymous, err = app.Bool(getenv, "ANONYMOUS_AUTHORIZATIONS")
	errs = append(errs, err)
	if v := getenv("APP_SIGN_IN_URL"); v != "" {
		if u, err := url.Parse(v); err != nil || u.Host == "" || u.Fragment != "" || (u.Scheme != "https" && u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost") {
			errs = append(errs, errors.New("APP_SIGN_IN_URL must be an absolute https URL without a fragment"))
		}
		c.AppSignInURL = v
	}
	return c, errors.Join(errs...)
}
