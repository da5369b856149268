package tokens_test

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sellerauth/sellerauth/internal/amazon"
	"github.com/sellerauth/sellerauth/internal/authflow"
	"github.com/sellerauth/sellerauth/internal/awstest"
	"github.com/sellerauth/sellerauth/internal/dynamo"
	"github.com/sellerauth/sellerauth/internal/lwa"
	"github.com/sellerauth/sellerauth/internal/sandbox"
	"github.com/sellerauth/sellerauth/tokens"
)

// TestNewReadsWhatTheCallbackStored drives the importable API the way another Lambda does: New
// with the table name, then AccessToken; WithRefresh refreshes a stale token through the secret.
func TestNewReadsWhatTheCallbackStored(t *testing.T) {
	env := awstest.Start(t)
	table := env.CreateTables(t).Token
	db := dynamodb.NewFromConfig(env.Config)
	amz := sandbox.New(sandbox.Options{ClientID: clientID, ClientSecret: clientSecret})
	srv := httptest.NewServer(amz.Handler())
	t.Cleanup(srv.Close)
	secretID := env.CreateSecret(t, fmt.Sprintf(`{"client_id":%q,"client_secret":%q}`, clientID, clientSecret))
	exchange := lwa.New(srv.URL+sandbox.TokenPath, lwa.Static{ClientID: clientID, ClientSecret: clientSecret})

	// store saves an authorization as the callback does, with an access token that has left
	// before it expires.
	store := func(id string, region amazon.Region, left time.Duration) lwa.Token {
		t.Helper()
		tok, err := exchange.ExchangeCode(t.Context(), amz.IssueCode(id), "")
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		err = (&dynamo.TokenStore{Client: db, Table: table}).SaveAuthorization(t.Context(), authflow.Authorization{
			SellingPartnerID: id, Region: region, AccountType: amazon.Seller,
			RefreshToken: tok.RefreshToken, AccessToken: tok.AccessToken,
			AccessTokenExpiresAt: now.Add(left), AuthorizedAt: now,
		})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}

	fresh := store("A1FRESH", amazon.RegionEU, time.Hour)
	stale := store("A2STALE", amazon.RegionNA, time.Minute)

	reader := tokens.New(db, table)
	got, err := reader.AccessToken(t.Context(), "A1FRESH", tokens.RegionEU)
	if err != nil || got.AccessToken != fresh.AccessToken {
		t.Fatalf("fresh token: same as stored %v, err %v", got.AccessToken == fresh.AccessToken, err)
	}
	if _, err := reader.AccessToken(t.Context(), "A1FRESH", tokens.RegionFE); !errors.Is(err, tokens.ErrNotAuthorized) {
		t.Errorf("never authorized in FE: err = %v, want ErrNotAuthorized", err)
	}
	if _, err := reader.AccessToken(t.Context(), "A2STALE", tokens.RegionNA); !errors.Is(err, tokens.ErrStale) {
		t.Errorf("stale token without WithRefresh: err = %v, want ErrStale", err)
	}
	if _, err := tokens.New(db, table, tokens.WithSkew(2*time.Hour)).AccessToken(t.Context(), "A1FRESH", tokens.RegionEU); !errors.Is(err, tokens.ErrStale) {
		t.Errorf("an hour left under a two-hour skew: err = %v, want ErrStale", err)
	}

	refreshing := tokens.New(db, table, tokens.WithRefresh(secretsmanager.NewFromConfig(env.Config), secretID, srv.URL+sandbox.TokenPath))
	got, err = refreshing.AccessToken(t.Context(), "A2STALE", tokens.RegionNA)
	if err != nil || got.AccessToken == stale.AccessToken || time.Until(got.ExpiresAt) < 50*time.Minute {
		t.Fatalf("WithRefresh: new token %v, valid %v, err %v", got.AccessToken != stale.AccessToken, time.Until(got.ExpiresAt).Round(time.Minute), err)
	}
	// The refreshed token was stored: a plain reader now finds it.
	again, err := tokens.New(db, table).AccessToken(t.Context(), "A2STALE", tokens.RegionNA)
	if err != nil || again.AccessToken != got.AccessToken {
		t.Fatalf("plain reader after the refresh: same token %v, err %v", again.AccessToken == got.AccessToken, err)
	}
}

// TestFromEnvironment: the contract's variables build the same reader; without
// LWA_CREDENTIALS_SECRET_ID it never refreshes.
func TestFromEnvironment(t *testing.T) {
	env := awstest.Start(t)
	table := env.CreateTables(t).Token
	t.Setenv("TOKEN_TABLE_NAME", "")
	if _, err := tokens.FromEnvironment(env.Config); err == nil {
		t.Fatal("no error without TOKEN_TABLE_NAME")
	}
	t.Setenv("TOKEN_TABLE_NAME", table)
	t.Setenv("LWA_CREDENTIALS_SECRET_ID", "")
	r, err := tokens.FromEnvironment(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.AccessToken(t.Context(), "A1NOBODY", tokens.RegionNA); !errors.Is(err, tokens.ErrNotAuthorized) {
		t.Errorf("err = %v, want ErrNotAuthorized from the table named by TOKEN_TABLE_NAME", err)
	}
}

// TestConnectionsOfAnEndUser lists what connect sessions stored for one of the app's users.
func TestConnectionsOfAnEndUser(t *testing.T) {
	env := awstest.Start(t)
	table := env.CreateTables(t).Token
	db := dynamodb.NewFromConfig(env.Config)
	store := &dynamo.TokenStore{Client: db, Table: table}
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, a := range []struct {
		seller, endUser string
		region          amazon.Region
	}{{"A1ALICEUS", "alice", amazon.RegionNA}, {"A1ALICEUS", "alice", amazon.RegionEU}, {"A2BOB", "bob", amazon.RegionNA}, {"A3ANON", "", amazon.RegionNA}} {
		if err := store.SaveAuthorization(t.Context(), authflow.Authorization{
			SellingPartnerID: a.seller, Region: a.region, AccountType: amazon.Seller, EndUserID: a.endUser,
			RefreshToken: "Atzr|r-" + a.seller, AccessToken: "Atza|a", AccessTokenExpiresAt: at.Add(time.Hour), AuthorizedAt: at,
		}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := tokens.New(db, table).Connections(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("alice has %d connections, want 2: %+v", len(got), got)
	}
	for _, c := range got {
		if c.SellingPartnerID != "A1ALICEUS" || c.EndUserID != "alice" || c.Status != "active" || !c.ReauthorizeBy.Equal(at.AddDate(0, 0, 365)) {
			t.Errorf("connection %+v", c)
		}
	}
	if none, err := tokens.New(db, table).Connections(t.Context(), "carol"); err != nil || len(none) != 0 {
		t.Fatalf("carol: %v, %v", none, err)
	}
}
