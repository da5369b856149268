package lwaapp

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sellerauth/sellerauth/internal/amazon"
	"github.com/sellerauth/sellerauth/internal/app"
	"github.com/sellerauth/sellerauth/internal/authflow"
	"github.com/sellerauth/sellerauth/internal/credentials"
	"github.com/sellerauth/sellerauth/internal/dynamo"
	"github.com/sellerauth/sellerauth/internal/httpapi"
	"github.com/sellerauth/sellerauth/internal/lwa"
)

// NewCallback wires the callback function (GET /callback).
func NewCallback(r app.Runtime) (*httpapi.Handler, error) {
	c, err := loadCallbackConfig(r.Getenv)
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	db := dynamodb.NewFromConfig(r.AWS)
	client := newLWAClient(r, c.LWA)
	svc := &authflow.Service{
		Consent: amazon.Consent{RedirectURI: c.RedirectURI},
		Now:     r.Clock(),
		Random:  rand.Reader,
		States:  &dynamo.StateStore{Client: db, Table: c.StateTable},
		Tokens: &dynamo.TokenStore{Client: db, Table: c.TokenTable, SessionTable: c.SessionTable,
			HistoryRetention: c.HistoryRetention, Now: r.Clock()},
		Sessions:  &dynamo.SessionStore{Client: db, Table: c.SessionTable},
		Exchanger: client,
		Anonymous: c.Anonymous,
	}
	return &httpapi.Handler{Flow: svc, Log: r.Log, Now: r.Clock(), SuccessURL: c.SuccessURL, Anonymous: c.Anonymous}, nil
}

// newLWAClient builds the token client with credentials from Secrets Manager, fetched on first need.
func newLWAClient(r app.Runtime, c lwaConfig) *lwa.Client {
	creds := credentials.New(secretsmanager.NewFromConfig(r.AWS), c.SecretID)
	client := lwa.New(c.TokenURL, creds)
	if r.LWAHTTPClient != nil {
		client.HTTPClient = r.LWAHTTPClient
	}
	return client
}

// callbackConfig is the environment of the callback function.
type callbackConfig struct {
	RedirectURI string
	SuccessURL  string
	StateTable  string
	TokenTable  string
	LWA         lwaConfig

	SessionTable     string
	Anonymous        bool
	HistoryRetention time.Duration
}

type lwaConfig struct {
	SecretID string
	TokenURL string
}

func loadLWAConfig(getenv app.Getenv) (lwaConfig, error) {
	var errs []error
	c := lwaConfig{SecretID: getenv("LWA_CREDENTIALS_SECRET_ID")}
	if c.SecretID == "" {
		errs = append(errs, errors.New("LWA_CREDENTIALS_SECRET_ID is required"))
	}
	var err error
	c.TokenURL, err = lwa.TokenURL(getenv("LWA_TOKEN_URL"))
	errs = append(errs, err)
	return c, errors.Join(errs...)
}

func loadCallbackConfig(getenv app.Getenv) (callbackConfig, error) {
	var errs []error
	c := callbackConfig{
		RedirectURI: getenv("REDIRECT_URI"),
		SuccessURL:  getenv("SUCCESS_URL"),
		StateTable:  getenv("STATE_TABLE_NAME"),
		TokenTable:  getenv("TOKEN_TABLE_NAME"),
	}
	if c.RedirectURI != "" {
		if err := app.CheckRedirectURI(c.RedirectURI); err != nil {
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
	c.Anonymous, err = app.Bool(getenv, "ANONYMOUS_AUTHORIZATIONS")
	errs = append(errs, err)
	days, err := app.Int(getenv, "HISTORY_RETENTION_DAYS", 90, 1, 3650)
	errs = append(errs, err)
	c.HistoryRetention = time.Duration(days) * 24 * time.Hour
	c.LWA, err = loadLWAConfig(getenv)
	errs = append(errs, err)
	return c, errors.Join(errs...)
}
