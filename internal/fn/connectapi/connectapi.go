// Package connectapi wires the connect-api function: the app's backend API (connect sessions,
// connections) behind API Gateway's IAM authorizer. It needs the session table and the token
// table's end-user index, and nothing of Login with Amazon.
package connectapi

import (
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/sellerauth/sellerauth/internal/amazon"
	"github.com/sellerauth/sellerauth/internal/authflow"
	"github.com/sellerauth/sellerauth/internal/dynamo"
	"github.com/sellerauth/sellerauth/internal/fn"
	"github.com/sellerauth/sellerauth/internal/httpapi"
)

// New wires the connect-api function: the app's backend API (connect sessions,
// connections), which needs the session table and the token table's end-user index.
func New(r fn.Runtime) (*httpapi.BackendHandler, error) {
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
	c.Marketplace, err = fn.DefaultMarketplace(getenv)
	errs = append(errs, err)
	if c.ReturnURLs, err = authflow.ParseReturnURLs(getenv("ALLOWED_RETURN_URLS")); err != nil {
		errs = append(errs, fmt.Errorf("ALLOWED_RETURN_URLS: %w", err))
	}
	ttl, err := fn.Int(getenv, "CONNECT_SESSION_TTL_SECONDS", 1800, 60, 86400)
	errs = append(errs, err)
	c.SessionTTL = time.Duration(ttl) * time.Second
	c.OriginOverride, err = fn.ConsentOriginOverride(getenv)
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	db := dynamodb.NewFromConfig(r.AWS)
	svc, err := authflow.New(authflow.RoleBackend, authflow.Service{
		Consent:            amazon.Consent{OriginOverride: c.OriginOverride},
		DefaultMarketplace: c.Marketplace,
		Now:                r.Clock(),
		Random:             rand.Reader,
		Sessions:           &dynamo.SessionStore{Client: db, Table: c.SessionTable},
		ConnectionStore:    &dynamo.TokenStore{Client: db, Table: c.TokenTable, Now: r.Clock()},
		SessionTTL:         c.SessionTTL,
		ReturnURLs:         c.ReturnURLs,
	})
	if err != nil {
		return nil, err
	}
	return httpapi.NewBackend(svc, httpapi.Common{Log: r.Log, Now: r.Clock()})
}
