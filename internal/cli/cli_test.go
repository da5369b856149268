package cli_test

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/sellerauth/sellerauth/internal/amazon"
	"github.com/sellerauth/sellerauth/internal/authflow"
	"github.com/sellerauth/sellerauth/internal/awstest"
	"github.com/sellerauth/sellerauth/internal/cli"
	"github.com/sellerauth/sellerauth/internal/dynamo"
)

func TestMain(m *testing.M) { os.Exit(awstest.Main(m)) }

// TestRestoreIsOneOperatorStep: a connection was re-authorized (here by another user after the
// first one lapsed); the operator puts the replaced refresh token back with one command, and can
// undo it with the same command.
func TestRestoreIsOneOperatorStep(t *testing.T) {
	env := awstest.Start(t)
	table := env.CreateTables(t).Token
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	store := &dynamo.TokenStore{Client: dynamodb.NewFromConfig(env.Config), Table: table, Now: func() time.Time { return now }}
	save := func(endUser, refresh string, at time.Time) {
		t.Helper()
		if err := store.SaveAuthorization(t.Context(), authflow.Authorization{
			SellingPartnerID: "A1SELLER", Region: amazon.RegionEU, AccountType: amazon.Seller, EndUserID: endUser,
			RefreshToken: refresh, AccessToken: "Atza|access-" + refresh, AccessTokenExpiresAt: at.Add(time.Hour), AuthorizedAt: at,
		}); err != nil {
			t.Fatal(err)
		}
	}
	save("alice", "Atzr|first", now.Add(-48*time.Hour))
	save("alice", "Atzr|second", now.Add(-time.Hour))

	run := func(args ...string) (int, string, string) {
		var out, errs bytes.Buffer
		code := cli.Run(t.Context(), args, func(string) string { return table }, &out, &errs,
			func(string) cli.Store { return store })
		if strings.Contains(out.String()+errs.String(), "Atz") {
			t.Fatalf("sellerauth %v printed a token", args)
		}
		return code, out.String(), errs.String()
	}
	if code, out, _ := run("show", "A1SELLER", "eu"); code != 0 || !strings.Contains(out, "replaced            a refresh token of end user alice") {
		t.Fatalf("show: %d\n%s", code, out)
	}
	if code, out, errs := run("restore", "A1SELLER", "eu"); code != 0 || !strings.Contains(out, "restored") {
		t.Fatalf("restore: %d\n%s%s", code, out, errs)
	}
	it, err := store.Get(t.Context(), "A1SELLER", amazon.RegionEU)
	if err != nil {
		t.Fatal(err)
	}
	if it.RefreshToken != "Atzr|first" || it.PreviousRefreshToken != "Atzr|second" || it.Status != dynamo.StatusActive || !it.AuthorizedAt.Equal(now.Add(-48*time.Hour)) {
		t.Fatalf("after restore: refresh %q, previous %q, status %s, authorized %v", it.RefreshToken, it.PreviousRefreshToken, it.Status, it.AuthorizedAt)
	}
	if code, _, _ := run("restore", "A1SELLER", "eu"); code != 0 {
		t.Fatal("restoring again (undo) failed")
	}
	if it, _ := store.Get(t.Context(), "A1SELLER", amazon.RegionEU); it.RefreshToken != "Atzr|second" {
		t.Fatal("the second restore did not undo the first")
	}
	if code, _, errs := run("restore", "A9NOBODY", "eu"); code != 1 || !strings.Contains(errs, "no connection") {
		t.Fatalf("restore of nobody: %d %s", code, errs)
	}
	if code, _, _ := run("restore", "A1SELLER", "mars"); code != 2 {
		t.Fatal("a bad region was accepted")
	}
	other := &dynamo.TokenStore{Client: store.Client, Table: table}
	if err := other.SaveAuthorization(t.Context(), authflow.Authorization{
		SellingPartnerID: "A2FRESH", Region: amazon.RegionEU, AccountType: amazon.Seller,
		RefreshToken: "Atzr|only", AccessToken: "Atza|a", AccessTokenExpiresAt: now.Add(time.Hour), AuthorizedAt: now,
	}); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := run("restore", "A2FRESH", "eu"); code != 1 || !strings.Contains(errs, "no replaced refresh token") {
		t.Fatalf("restore with nothing kept: %d %s", code, errs)
	}
}
