// Package lwaclient wires the Login with Amazon client of the functions that hold the app's
// client secret (callback and refresh): the token endpoint and the secret's ID from the
// environment, the credentials fetched from Secrets Manager on first need. It is its own package
// so that the functions which do not call Login with Amazon do not link it.
package lwaclient

import (
	"errors"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sellerauth/sellerauth/internal/fn"
	"github.com/sellerauth/sellerauth/internal/lwa"
	"github.com/sellerauth/sellerauth/internal/lwasecret"
)

// Config is LWA_CREDENTIALS_SECRET_ID and LWA_TOKEN_URL.
type Config struct {
	SecretID string
	TokenURL string
}

// Load reads and checks Config.
func Load(getenv fn.Getenv) (Config, error) {
	var errs []error
	c := Config{SecretID: getenv("LWA_CREDENTIALS_SECRET_ID")}
	if c.SecretID == "" {
		errs = append(errs, errors.New("LWA_CREDENTIALS_SECRET_ID is required"))
	}
	var err error
	c.TokenURL, err = lwa.ParseTokenURL(getenv("LWA_TOKEN_URL"))
	errs = append(errs, err)
	return c, errors.Join(errs...)
}

// New builds the token client with credentials from Secrets Manager, fetched on first need.
func New(r fn.Runtime, c Config) *lwa.Client {
	creds := lwasecret.New(secretsmanager.NewFromConfig(r.AWS), c.SecretID)
	client := lwa.New(c.TokenURL, creds)
	if r.LWAHTTPClient != nil {
		client.HTTPClient = r.LWAHTTPClient
	}
	return client
}
