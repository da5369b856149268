package tokens_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/sellerauth/sellerauth/tokens"
)

// Another Lambda, in its own module, builds one Reader at start-up (its role carries the stack's
// TokenReaderPolicy) and asks it for a seller's token before each SP-API call. It names nothing
// but this package and the AWS SDK. (It talks to AWS, so the example is compiled, not run; the
// tests run the same calls against moto.)
func Example() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	reader := tokens.New(dynamodb.NewFromConfig(cfg), os.Getenv("TOKEN_TABLE_NAME"))

	tok, err := reader.AccessToken(context.Background(), "A3EXAMPLE12345", tokens.RegionEU)
	switch {
	case errors.Is(err, tokens.ErrNotAuthorized), errors.Is(err, tokens.ErrReauthorizationRequired):
		fmt.Println("send the seller to the Authorize page")
	case errors.Is(err, tokens.ErrStale):
		fmt.Println("the scheduled refresh is late: retry shortly")
	case err != nil:
		fmt.Println("try again later:", err)
	default:
		// x-amz-access-token: tok.AccessToken on SP-API calls to sellingpartnerapi-eu.amazon.com
		fmt.Println("valid until", tok.ExpiresAt)
	}
}

// A Lambda of the stack's own template takes the table (and, if it may refresh, the secret) from
// the contract's environment variables.
func ExampleFromEnvironment() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	reader, err := tokens.FromEnvironment(cfg, tokens.WithSkew(10*time.Minute))
	if err != nil {
		log.Fatal(err) // TOKEN_TABLE_NAME is not set
	}
	conns, err := reader.Connections(context.Background(), "user-42")
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range conns {
		fmt.Println(c.SellingPartnerID, c.Region, c.Status)
	}
}
