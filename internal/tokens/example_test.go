package tokens_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/sellerauth/sellerauth/internal/amazon"
	"github.com/sellerauth/sellerauth/internal/dynamo"
	"github.com/sellerauth/sellerauth/internal/tokens"
)

// Another Lambda builds one Reader at start-up, with the reader policy attached to its role,
// and asks it for a seller's token on every call to the SP-API. (It talks to AWS, so this
// example is compiled but not run; the tests of this package run the same code against moto.)
func ExampleReader_AccessToken() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	reader := &tokens.Reader{
		Store: &dynamo.TokenStore{Client: dynamodb.NewFromConfig(cfg), Table: os.Getenv("TOKEN_TABLE_NAME")},
		// Refresher: lwa.New(tokenURL, credentials.New(...)) only if this Lambda may read the
		// LWA secret and refresh_token; without it a stale token is tokens.ErrStale.
	}

	tok, err := reader.AccessToken(context.Background(), "A3EXAMPLE12345", amazon.RegionEU)
	switch {
	case errors.Is(err, tokens.ErrNotAuthorized), errors.Is(err, tokens.ErrReauthorizationRequired):
		fmt.Println("send the seller to the Authorize page")
	case err != nil:
		fmt.Println("try again later:", err)
	default:
		// x-amz-access-token: tok.AccessToken on SP-API calls to sellingpartnerapi-eu.amazon.com
		fmt.Println("valid until", tok.ExpiresAt)
	}
}
