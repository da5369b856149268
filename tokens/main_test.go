package tokens_test

import (
	"fmt"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sellerauth/sellerauth/internal/amazon"
	"github.com/sellerauth/sellerauth/internal/authflow"
	"github.com/sellerauth/sellerauth/internal/awstest"
	"github.com/sellerauth/sellerauth/internal/dynamo"
	"github.com/sellerauth/sellerauth/internal/fakeclock"
	"github.com/sellerauth/sellerauth/internal/lwa"
	"github.com/sellerauth/sellerauth/internal/lwasecret"
	"github.com/sellerauth/sellerauth/internal/sandbox"
)

func TestMain(m *testing.M) { os.Exit(awstest.Main(m)) }

const (
	clientID     = "amzn1.application-oa2-client.0123456789abcdef"
	clientSecret = "amzn1.oa2-cs.v1.reader-test-secret"
)

type fixture struct {
	t      *testing.T
	calls  *awstest.CallCounter
	store  *dynamo.TokenStore
	amazon *sandbox.Sandbox
	lwa    *lwa.Client
	clock  *fakeclock.Clock
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	env := awstest.Start(t)
	f := &fixture{t: t, clock: fakeclock.New(time.Now().UTC().Truncate(time.Second))}
	table := env.CreateTables(t).Token
	cfg := env.Config.Copy()
	f.calls = awstest.CountCalls(&cfg)
	f.store = &dynamo.TokenStore{Client: dynamodb.NewFromConfig(cfg), Table: table, Now: f.clock.Now}
	f.amazon = sandbox.New(sandbox.Options{ClientID: clientID, ClientSecret: clientSecret, Now: f.clock.Now})
	srv := httptest.NewServer(f.amazon.Handler())
	t.Cleanup(srv.Close)
	secretID := env.CreateSecret(t, fmt.Sprintf(`{"client_id":%q,"client_secret":%q}`, clientID, clientSecret))
	f.lwa = lwa.New(srv.URL+sandbox.TokenPath, lwasecret.New(secretsmanager.NewFromConfig(cfg), secretID))
	return f
}

// authorize stores a new authorization of the seller in region, as the callback does.
func (f *fixture) authorize(id string, region amazon.Region) lwa.Token {
	f.t.Helper()
	tok, err := f.lwa.ExchangeCode(f.t.Context(), f.amazon.IssueCode(id), "")
	if err != nil {
		f.t.Fatal(err)
	}
	now := f.clock.Now()
	err = f.store.SaveAuthorization(f.t.Context(), authflow.Authorization{
		SellingPartnerID: id, Region: region, AccountType: amazon.Seller,
		RefreshToken: tok.RefreshToken, AccessToken: tok.AccessToken,
		AccessTokenExpiresAt: now.Add(tok.ExpiresIn), AuthorizedAt: now,
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return tok
}
