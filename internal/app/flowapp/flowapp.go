// Package flowapp wires the authorize and login functions: the seller-facing half of the flow
// that needs only the state table. It is apart from package app so that the functions which do
// not serve these routes (callback, refresh, rotate-secret) do not link what they do not use; each
// linked package's init runs on every cold start.
package flowapp

import (
	"crypto/rand"
	"errors"
	"fmt"
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

// NewAuthorize wires the authorize function (GET / and GET /authorize).
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
	}
	return &httpapi.Handler{Flow: svc, Log: r.Log, Now: r.Clock()}, nil
}

// flowConfig is the environment of the authorize and login functions.
type flowConfig struct {
	Consent            amazon.Consent
	DefaultMarketplace amazon.Marketplace
	StateTTL           time.Duration
	StateTable         string
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
	if v := getenv("AMAZON_CONSENT_ORIGIN"); v != "" {
		if err := amazon.CheckOriginOverride(v); err != nil {
			errs = append(errs, fmt.Errorf("AMAZON_CONSENT_ORIGIN must be an origin such as http://127.0.0.1:9000: %w", err))
		}
		c.Consent.OriginOverride = strings.TrimSuffix(v, "/")
	}
	mp := getenv("DEFAULT_MARKETPLACE")
	if mp == "" {
		mp = "US"
	}
	m, ok := amazon.LookupMarketplace(mp)
	if !ok {
		errs = append(errs, fmt.Errorf("DEFAULT_MARKETPLACE: unknown marketplace %q", mp))
	}
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
	return c, errors.Join(errs...)
}
