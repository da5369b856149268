package dynamo_test

import (
	"errors"
	"fmt"
	"maps"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sellerauth/sellerauth/internal/amazon"
	"github.com/sellerauth/sellerauth/internal/authflow"
	"github.com/sellerauth/sellerauth/internal/dynamo"
)

const seller = "A3EXAMPLE12345"

var authorizedAt = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func authorization(at time.Time, suffix string) authflow.Authorization {
	return authflow.Authorization{
		SellingPartnerID:     seller,
		Region:               amazon.RegionNA,
		AccountType:          amazon.Seller,
		RefreshToken:         "Atzr|refresh-" + suffix,
		AccessToken:          "Atza|access-" + suffix,
		AccessTokenExpiresAt: at.Add(time.Hour),
		AuthorizedAt:         at,
	}
}

func tokenKey() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"selling_partner_id": s(seller), "region": s("na")}
}

func TestSaveAuthorizationItemMatchesTheContract(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := authorization(authorizedAt, "1")
	a.MWSAuthToken = "amzn.mws.1"
	if err := f.tokens.SaveAuthorization(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"selling_partner_id":      "S:" + seller,
		"region":                  "S:na",
		"refresh_token":           "S:Atzr|refresh-1",
		"access_token":            "S:Atza|access-1",
		"access_token_expires_at": "N:" + epoch(authorizedAt.Add(time.Hour)),
		"status":                  "S:active",
		"account_type":            "S:seller",
		"authorized_at":           "N:" + epoch(authorizedAt),
		"authorized_at_ms":        "N:" + strconv.FormatInt(authorizedAt.UnixMilli(), 10),
		"reauthorize_by":          "N:" + epoch(authorizedAt.Add(365*24*time.Hour)),
		"updated_at":              "N:" + epoch(updatedAt),
		"version":                 "N:1",
		"mws_auth_token":          "S:amzn.mws.1",
		"refresh_shard":           "N:" + strconv.Itoa(dynamo.Shard(seller, amazon.RegionNA)),
		"refresh_due_at":          "N:" + epoch(authorizedAt.Add(time.Hour-dynamo.RefreshLead)),
		// A first authorization replaced nothing: "" and 0 (see SaveAuthorization).
		"previous_refresh_token": "S:",
		"previous_end_user_id":   "S:",
		"previous_status":        "S:",
		"previous_authorized_at": "N:0",
		"previous_kept_until":    "N:" + epoch(authorizedAt.Add(dynamo.DefaultHistoryRetention)),
		// The lifecycle marker that lets this write through the events function's stream filter.
		"lifecycle": "S:authorized",
	}
	if got := shape(f.raw(t, f.tables.Token, tokenKey())); !maps.Equal(got, want) {
		t.Errorf("item = %v\nwant   %v", got, want)
	}

	item, err := f.tokens.Get(t.Context(), seller, amazon.RegionNA)
	if err != nil {
		t.Fatal(err)
	}
	wantItem := dynamo.Item{
		SellingPartnerID:     seller,
		Region:               amazon.RegionNA,
		RefreshToken:         a.RefreshToken,
		AccessToken:          a.AccessToken,
		AccessTokenExpiresAt: a.AccessTokenExpiresAt,
		Status:               dynamo.StatusActive,
		AccountType:          amazon.Seller,
		AuthorizedAt:         authorizedAt,
		ReauthorizeBy:        authorizedAt.Add(365 * 24 * time.Hour),
		UpdatedAt:            updatedAt,
		Version:              1,
		MWSAuthToken:         "amzn.mws.1",
		RefreshDueAt:         a.AccessTokenExpiresAt.Add(-dynamo.RefreshLead),
		RefreshShard:         dynamo.Shard(seller, amazon.RegionNA),
		PreviousKeptUntil:    authorizedAt.Add(dynamo.DefaultHistoryRetention),
		Lifecycle:            dynamo.LifecycleAuthorized,
	}
	if item != wantItem {
		t.Errorf("Get = %+v\nwant  %+v", item, wantItem)
	}
}

func TestSaveAuthorizationVersions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := t.Context()
	steps := []struct {
		name        string
		a           authflow.Authorization
		wantErr     error
		wantVersion int64
		wantRefresh string
	}{
		{"first", authorization(authorizedAt, "1"), nil, 1, "Atzr|refresh-1"},
		{"later", authorization(authorizedAt.Add(time.Hour), "2"), nil, 2, "Atzr|refresh-2"},
		{"same instant (a retried save)", authorization(authorizedAt.Add(time.Hour), "same"), authflow.ErrNewerAuthorization, 2, "Atzr|refresh-2"},
		{"a millisecond later, same second", authorization(authorizedAt.Add(time.Hour+time.Millisecond), "3"), nil, 3, "Atzr|refresh-3"},
		{"a millisecond earlier, same second (began first, finished last)", authorization(authorizedAt.Add(time.Hour), "slow"), authflow.ErrNewerAuthorization, 3, "Atzr|refresh-3"},
		{"older", authorization(authorizedAt.Add(30*time.Minute), "old"), authflow.ErrNewerAuthorization, 3, "Atzr|refresh-3"},
	}
	for _, step := range steps {
		before := f.raw(t, f.tables.Token, tokenKey())
		err := f.tokens.SaveAuthorization(ctx, step.a)
		if !errors.Is(err, step.wantErr) || (err != nil && step.wantErr == nil) {
			t.Fatalf("%s: err = %v, want %v", step.name, err, step.wantErr)
		}
		after := f.raw(t, f.tables.Token, tokenKey())
		if step.wantErr != nil && !maps.Equal(shape(before), shape(after)) {
			t.Errorf("%s: a refused save changed the item:\n%v\n%v", step.name, shape(before), shape(after))
		}
		item, err := f.tokens.Get(ctx, seller, amazon.RegionNA)
		if err != nil {
			t.Fatal(err)
		}
		if item.Version != step.wantVersion || item.RefreshToken != step.wantRefresh {
			t.Errorf("%s: version %d, refresh token %q; want %d, %q", step.name, item.Version, item.RefreshToken, step.wantVersion, step.wantRefresh)
		}
	}
}

// A seller whose authorization died (refresh token revoked, TTL set) authorizes again: the item
// must come back to life with nothing of the dead state left.
func TestReauthorizationRevivesADeadItem(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	dead, err := dynamo.EncodeItem(dynamo.Item{
		SellingPartnerID:    seller,
		Region:              amazon.RegionNA,
		RefreshToken:        "Atzr|revoked",
		AccessToken:         "Atza|old",
		Status:              dynamo.StatusReauthorizationRequired,
		AccountType:         amazon.Seller,
		AuthorizedAt:        authorizedAt.Add(-400 * 24 * time.Hour),
		Version:             7,
		ExpiresAt:           authorizedAt.Add(30 * 24 * time.Hour),
		InvalidGrantCount:   3,
		InvalidGrantFirstAt: authorizedAt.Add(-time.Hour),
		MWSAuthToken:        "amzn.mws.old",
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.env.DynamoDB.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(f.tables.Token), Item: dead}); err != nil {
		t.Fatal(err)
	}
	raw := shape(f.raw(t, f.tables.Token, tokenKey()))
	for _, name := range []string{"expires_at", "invalid_grant_count", "invalid_grant_first_at"} {
		if _, ok := raw[name]; !ok {
			t.Fatalf("the seeded dead item lacks %s: %v", name, raw)
		}
	}

	if err := f.tokens.SaveAuthorization(t.Context(), authorization(authorizedAt, "new")); err != nil {
		t.Fatal(err)
	}
	raw = shape(f.raw(t, f.tables.Token, tokenKey()))
	for _, name := range []string{"expires_at", "invalid_grant_count", "invalid_grant_first_at", "mws_auth_token"} {
		if v, ok := raw[name]; ok {
			t.Errorf("%s survived re-authorization: %s", name, v)
		}
	}
	if raw["status"] != "S:active" || raw["version"] != "N:8" || raw["refresh_token"] != "S:Atzr|refresh-new" {
		t.Errorf("status %s, version %s, refresh token %s", raw["status"], raw["version"], raw["refresh_token"])
	}
	if _, ok := raw["refresh_due_at"]; !ok {
		t.Error("the revived item is not scheduled for refresh")
	}
}

func TestMWSAuthTokenSetAndRemoved(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	steps := []struct{ mws, want string }{{"amzn.mws.1", "S:amzn.mws.1"}, {"", ""}, {"amzn.mws.2", "S:amzn.mws.2"}}
	for i, step := range steps {
		a := authorization(authorizedAt.Add(time.Duration(i)*time.Minute), "x")
		a.MWSAuthToken = step.mws
		if err := f.tokens.SaveAuthorization(t.Context(), a); err != nil {
			t.Fatal(err)
		}
		if got := shape(f.raw(t, f.tables.Token, tokenKey()))["mws_auth_token"]; got != step.want {
			t.Errorf("step %d: mws_auth_token = %q, want %q", i, got, step.want)
		}
	}
}

func TestSaveAuthorizationCallBudget(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for i, a := range []authflow.Authorization{authorization(authorizedAt, "1"), authorization(authorizedAt.Add(time.Second), "2")} {
		f.calls.Reset()
		if err := f.tokens.SaveAuthorization(t.Context(), a); err != nil {
			t.Fatal(err)
		}
		if got := f.calls.Counts(); len(got) != 1 || got["DynamoDB.UpdateItem"] != 1 {
			t.Errorf("save %d made %v, want one UpdateItem", i, got)
		}
	}
	f.calls.Reset()
	if err := f.tokens.SaveAuthorization(t.Context(), authorization(authorizedAt.Add(-time.Hour), "old")); !errors.Is(err, authflow.ErrNewerAuthorization) {
		t.Fatal(err)
	}
	if got := f.calls.Counts(); len(got) != 1 || got["DynamoDB.UpdateItem"] != 1 {
		t.Errorf("refused save made %v, want one UpdateItem", got)
	}
}

// The refresh job finds due authorizations through the sparse refresh-due index; this proves the
// attributes SaveAuthorization writes land there with the projection the job relies on.
func TestSavedAuthorizationIsInTheRefreshDueIndex(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := authorization(authorizedAt, "1")
	if err := f.tokens.SaveAuthorization(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	shard := dynamo.Shard(seller, amazon.RegionNA)
	query := func(dueBy time.Time) []map[string]types.AttributeValue {
		out, err := f.env.DynamoDB.Query(t.Context(), &dynamodb.QueryInput{
			TableName:              aws.String(f.tables.Token),
			IndexName:              aws.String(dynamo.RefreshDueIndex),
			KeyConditionExpression: aws.String("refresh_shard = :shard AND refresh_due_at <= :due"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":shard": &types.AttributeValueMemberN{Value: strconv.Itoa(shard)},
				":due":   &types.AttributeValueMemberN{Value: epoch(dueBy)},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		return out.Items
	}
	if items := query(a.AccessTokenExpiresAt.Add(-dynamo.RefreshLead - time.Second)); len(items) != 0 {
		t.Errorf("due too early: %d items", len(items))
	}
	items := query(a.AccessTokenExpiresAt.Add(-dynamo.RefreshLead))
	if len(items) != 1 {
		t.Fatalf("due items = %d, want 1", len(items))
	}
	item, err := dynamo.DecodeItem(items[0])
	if err != nil {
		t.Fatal(err)
	}
	if item.SellingPartnerID != seller || item.Region != amazon.RegionNA || item.RefreshToken != a.RefreshToken ||
		item.Version != 1 || item.Status != dynamo.StatusActive || item.RefreshShard != shard {
		t.Errorf("index item = %+v", item)
	}
}

func TestTokenGetNotFound(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if _, err := f.tokens.Get(t.Context(), seller, amazon.RegionEU); !errors.Is(err, dynamo.ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
}

func TestInvalidInputIsRefusedBeforeAnyCall(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		name   string
		change func(*authflow.Authorization)
	}{
		{"no seller", func(a *authflow.Authorization) { a.SellingPartnerID = "" }},
		{"bad region", func(a *authflow.Authorization) { a.Region = "us" }},
		{"no refresh token", func(a *authflow.Authorization) { a.RefreshToken = "" }},
		{"no authorization time", func(a *authflow.Authorization) { a.AuthorizedAt = time.Time{} }},
	}
	for _, tc := range tests {
		a := authorization(authorizedAt, "1")
		tc.change(&a)
		if err := f.tokens.SaveAuthorization(t.Context(), a); err == nil || errors.Is(err, authflow.ErrNewerAuthorization) {
			t.Errorf("%s: err = %v", tc.name, err)
		}
	}
	if _, err := f.tokens.Get(t.Context(), seller, "us"); err == nil || errors.Is(err, dynamo.ErrNotFound) {
		t.Errorf("Get with a bad region: err = %v", err)
	}
	if err := f.states.Put(t.Context(), pending("")); err == nil {
		t.Error("Put of an empty key succeeded")
	}
	if n := f.calls.Total(); n != 0 {
		t.Errorf("invalid input made %d calls", n)
	}
}

func TestShard(t *testing.T) {
	t.Parallel()
	seen := map[int]bool{}
	for i := range 2000 {
		id := fmt.Sprintf("A%013d", i)
		for _, r := range []amazon.Region{amazon.RegionNA, amazon.RegionEU, amazon.RegionFE} {
			sh := dynamo.Shard(id, r)
			if sh < 0 || sh >= dynamo.DueShards {
				t.Fatalf("Shard(%s, %s) = %d", id, r, sh)
			}
			if dynamo.Shard(id, r) != sh {
				t.Fatal("Shard is not stable")
			}
			seen[sh] = true
		}
	}
	if len(seen) != dynamo.DueShards {
		t.Errorf("only %d of %d shards used", len(seen), dynamo.DueShards)
	}
}

func TestEncodeDecodeItem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		item dynamo.Item
	}{
		{"scheduled in shard 0", dynamo.Item{
			SellingPartnerID: seller, Region: amazon.RegionFE, RefreshToken: "r", AccessToken: "a",
			AccessTokenExpiresAt: authorizedAt, Status: dynamo.StatusActive, AccountType: amazon.Vendor,
			AuthorizedAt: authorizedAt, ReauthorizeBy: authorizedAt, UpdatedAt: authorizedAt, Version: 2,
			RefreshDueAt: authorizedAt, RefreshShard: 0,
		}},
		{"dead", dynamo.Item{
			SellingPartnerID: seller, Region: amazon.RegionEU, Status: dynamo.StatusReauthorizationRequired,
			Version: 9, ExpiresAt: authorizedAt, InvalidGrantCount: 2, InvalidGrantFirstAt: authorizedAt,
			MWSAuthToken: "m",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			av, err := dynamo.EncodeItem(tc.item)
			if err != nil {
				t.Fatal(err)
			}
			_, scheduled := av["refresh_shard"]
			if scheduled != !tc.item.RefreshDueAt.IsZero() {
				t.Errorf("refresh_shard present = %v", scheduled)
			}
			got, err := dynamo.DecodeItem(av)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.item {
				t.Errorf("round trip = %+v\nwant         %+v", got, tc.item)
			}
		})
	}
}
