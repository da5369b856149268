// Package login wires the login function (GET /login): the log-in step Amazon sends a seller to
// when the app has a log-in URI, and where an Appstore-started flow begins. It needs the state
// and session tables and nothing of Login with Amazon.
package login

import (
	"crypto/rand"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/sellerauth/sellerauth/internal/authflow"
	"github.com/sellerauth/sellerauth/internal/dynamo"
	"github.com/sellerauth/sellerauth/internal/fn"
	"github.com/sellerauth/sellerauth/internal/httpapi"
)

// New wires the login function. It makes no network call.
func New(r fn.Runtime) (*httpapi.Handler, error) {
	c, err := fn.LoadFlowConfig(r.Getenv)
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	db := dynamodb.NewFromConfig(r.AWS)
	svc, err := authflow.New(authflow.RoleLogin, authflow.Service{
		Consent:            c.Consent,
		DefaultMarketplace: c.DefaultMarketplace,
		StateTTL:           c.StateTTL,
		Now:                r.Clock(),
		Random:             rand.Reader,
		States:             &dynamo.StateStore{Client: db, Table: c.StateTable},
		Sessions:           &dynamo.SessionStore{Client: db, Table: c.SessionTable},
		Anonymous:          c.Anonymous,
		AppSignInURL:       c.AppSignInURL,
	})
	if err != nil {
		return nil, err
	}
	return httpapi.NewLogin(svc, httpapi.Common{Log: r.Log, Now: r.Clock()})
}
