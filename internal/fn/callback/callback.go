// Package callback wires the callback function (GET /callback): it consumes the state, exchanges
// the code at Login with Amazon with the secret from Secrets Manager, and stores the seller's
// tokens, the session's outcome and the replaced refresh token in one transaction.
package callback

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/sellerauth/sellerauth/internal/amazon"
	"github.com/sellerauth/sellerauth/internal/authflow"
	"github.com/sellerauth/sellerauth/internal/dynamo"
	"github.com/sellerauth/sellerauth/internal/fn"
	"github.com/sellerauth/sellerauth/internal/fn/lwaclient"
	"github.com/sellerauth/sellerauth/internal/httpapi"
)

// New wires the callback function. It makes no network call: the secret is fetched on the
// first exchange.
func New(r fn.Runtime) (*httpapi.Handler, error) {
	c, err := loadCallbackConfig(r.Getenv)
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	db := dynamodb.NewFromConfig(r.AWS)
	client := lwaclient.New(r, c.LWA)
	svc, err := authflow.New(authflow.RoleCallback, authflow.Service{
		Consent: amazon.Consent{RedirectURI: c.RedirectURI},
		Now:     r.Clock(),
		Random:  rand.Reader,
		States:  &dynamo.StateStore{Client: db, Table: c.StateTable},
		Tokens: &dynamo.TokenStore{Client: db, Table: c.TokenTable, SessionTable: c.SessionTable,
			HistoryRetention: c.HistoryRetention, Now: r.Clock()},
		Sessions:  &dynamo.SessionStore{Client: db, Table: c.SessionTable},
		Exchanger: client,
		Anonymous: c.Anonymous,
	})
	if err != nil {
		return nil, err
	}
	return httpapi.NewCallback(svc, httpapi.Common{Log: r.Log, Now: r.Clock()}, c.SuccessURL)
}

// callbackConfig is the environment of the callback function.
type callbackConfig struct {
	RedirectURI string
	SuccessURL  string
	StateTable  string
	TokenTable  string
	LWA         lwaclient.Config

	SessionTable     string
	Anonymous        bool
	HistoryRetention time.Duration
}

func loadCallbackConfig(getenv fn.Getenv) (callbackConfig, error) {
	var errs []error
	c := callbackConfig{
		RedirectURI: getenv("REDIRECT_URI"),
		SuccessURL:  getenv("SUCCESS_URL"),
		StateTable:  getenv("STATE_TABLE_NAME"),
		TokenTable:  getenv("TOKEN_TABLE_NAME"),
	}
	if c.RedirectURI != "" {
		if err := amazon.CheckRedirectURI(c.RedirectURI); err != nil {
			errs = append(errs, fmt.Errorf("REDIRECT_URI: %w", err))
		}
	}
	if c.SuccessURL != "" {
		if u, err := url.Parse(c.SuccessURL); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			errs = append(errs, errors.New("SUCCESS_URL must be an absolute URL"))
		}
	}
	if c.StateTable == "" {
		errs = append(errs, errors.New("STATE_TABLE_NAME is required"))
	}
	if c.TokenTable == "" {
		errs = append(errs, errors.New("TOKEN_TABLE_NAME is required"))
	}
	c.SessionTable = getenv("SESSION_TABLE_NAME")
	if c.SessionTable == "" {
		errs = append(errs, errors.New("SESSION_TABLE_NAME is required"))
	}
	var err error
	c.Anonymous, err = fn.Bool(getenv, "ANONYMOUS_AUTHORIZATIONS")
	errs = append(errs, err)
	days, err := fn.Int(getenv, "HISTORY_RETENTION_DAYS", 90, 1, 3650)
	errs = append(errs, err)
	c.HistoryRetention = time.Duration(days) * 24 * time.Hour
	c.LWA, err = lwaclient.Load(getenv)
	errs = append(errs, err)
	return c, errors.Join(errs...)
}
