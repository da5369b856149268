package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sellerauth/sellerauth/events"
	"github.com/sellerauth/sellerauth/internal/amazon"
	"github.com/sellerauth/sellerauth/internal/dynamo"
	"github.com/sellerauth/sellerauth/internal/lifecycle"
	"github.com/sellerauth/sellerauth/internal/refresh"
)

// connect saves an authorization of seller id at authorizedAt and returns the stored item.
func (f *fixture) connect(t *testing.T, id, suffix string) dynamo.Item {
	t.Helper()
	a := authorization(authorizedAt, suffix)
	a.SellingPartnerID = id
	if err := f.tokens.SaveAuthorization(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	return f.item(t, id)
}

// item reads one connection as stored, consistently.
func (f *fixture) item(t *testing.T, id string) dynamo.Item {
	t.Helper()
	av := f.raw(t, f.tables.Token, map[string]types.AttributeValue{"selling_partner_id": s(id), "region": s("na")})
	if av == nil {
		t.Fatalf("%s: no item", id)
	}
	it, err := dynamo.DecodeItem(av)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// markAt marks id reauthorization_required as the refresh job does, at the given time.
func (f *fixture) markAt(t *testing.T, id string, at time.Time) dynamo.Item {
	t.Helper()
	before := f.item(t, id)
	d := refresh.Due{SellingPartnerID: id, Region: amazon.RegionNA, RefreshToken: before.RefreshToken, Version: before.Version}
	g, err := f.tokens.RecordInvalidGrant(t.Context(), d, at, at.Add(10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	d.Version = g.Version
	if err := f.tokens.MarkReauthorizationRequired(t.Context(), d, at, at.Add(refresh.DefaultDeadTTL)); err != nil {
		t.Fatal(err)
	}
	return f.item(t, id)
}

// The mark keeps every token until the TTL: it only sets expires_at (30 days on) and takes the
// connection out of the due index.
func TestMarkKeepsTheTokensUntilTheTTL(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	before := f.connect(t, "A1MARKED", "1")
	markedAt := updatedAt.Add(time.Hour)
	it := f.markAt(t, "A1MARKED", markedAt)
	if it.Status != dynamo.StatusReauthorizationRequired || it.Lifecycle != dynamo.LifecycleReauthorizationRequired {
		t.Fatalf("status %s, lifecycle %q", it.Status, it.Lifecycle)
	}
	if it.RefreshToken != before.RefreshToken || it.AccessToken != before.AccessToken ||
		!it.AccessTokenExpiresAt.Equal(before.AccessTokenExpiresAt) {
		t.Errorf("the mark changed the tokens: %+v", it)
	}
	if !it.ExpiresAt.Equal(markedAt.Add(refresh.DefaultDeadTTL)) {
		t.Errorf("TTL %v, want the mark's time + %v", it.ExpiresAt, refresh.DefaultDeadTTL)
	}
	if !it.RefreshDueAt.IsZero() || !it.UpdatedAt.Equal(markedAt) {
		t.Errorf("due %v (want out of the index), updated_at %v (want the mark's time)", it.RefreshDueAt, it.UpdatedAt)
	}
}

func TestReactivateTheMarksOfAWindow(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := updatedAt // the store's clock
	ids := []string{"A1EARLY", "A1INWINDOW1", "A1INWINDOW2", "A1ACTIVE", "A1LATE"}
	for i, id := range ids {
		f.connect(t, id, fmt.Sprint(i))
	}
	marks := map[string]time.Time{
		"A1EARLY":     now.Add(-3 * time.Hour),
		"A1INWINDOW1": now.Add(-2 * time.Hour), // the window's first second is in it
		"A1INWINDOW2": now.Add(-30 * time.Minute),
		"A1LATE":      now.Add(-10 * time.Minute),
	}
	marked := map[string]dynamo.Item{}
	for id, at := range marks {
		marked[id] = f.markAt(t, id, at)
	}
	active := f.item(t, "A1ACTIVE")
	f.calls.Reset()

	n, err := f.tokens.Reactivate(t.Context(), now.Add(-2*time.Hour), now.Add(-20*time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("Reactivate = %d, %v; want the 2 marked within the window", n, err)
	}
	if got := f.calls.Count("DynamoDB.UpdateItem"); got != 2 {
		t.Errorf("%d UpdateItem calls, want one per connection re-activated", got)
	}
	for _, id := range []string{"A1INWINDOW1", "A1INWINDOW2"} {
		was, it := marked[id], f.item(t, id)
		switch {
		case it.Status != dynamo.StatusActive || it.Version != was.Version+1 || it.Lifecycle != dynamo.LifecycleRestored:
			t.Errorf("%s: status %s, version %d (was %d), lifecycle %q; want active, one more, restored", id, it.Status, it.Version, was.Version, it.Lifecycle)
		case !it.ExpiresAt.IsZero():
			t.Errorf("%s: the TTL is still set (%v)", id, it.ExpiresAt)
		case it.InvalidGrantCount != 0 || !it.InvalidGrantFirstAt.IsZero():
			t.Errorf("%s: invalid_grant bookkeeping kept: %d since %v", id, it.InvalidGrantCount, it.InvalidGrantFirstAt)
		case it.RefreshShard != dynamo.Shard(id, amazon.RegionNA) || !it.RefreshDueAt.Equal(now) || !it.UpdatedAt.Equal(now):
			t.Errorf("%s: shard %d, due %v, updated %v; want its shard, due now", id, it.RefreshShard, it.RefreshDueAt, it.UpdatedAt)
		case it.RefreshToken != was.RefreshToken || it.AccessToken != was.AccessToken:
			t.Errorf("%s: the tokens changed", id)
		}
		// The write is a lifecycle change the events function turns into an event.
		view := func(i dynamo.Item) *lifecycle.Item {
			return &lifecycle.Item{SellingPartnerID: i.SellingPartnerID, Region: string(i.Region), Status: string(i.Status),
				EndUserID: i.EndUserID, Version: i.Version, Lifecycle: i.Lifecycle, AuthorizedAt: i.AuthorizedAt}
		}
		if kind, _, ok := lifecycle.Classify(lifecycle.Change{EventName: "MODIFY", OldToken: view(was), NewToken: view(it)}); !ok || kind != events.ConnectionRenewed {
			t.Errorf("%s: the re-activation is the event %q (%v), want %q", id, kind, ok, events.ConnectionRenewed)
		}
	}
	for _, id := range []string{"A1EARLY", "A1LATE"} {
		if it := f.item(t, id); it.Status != dynamo.StatusReauthorizationRequired || it.Version != marked[id].Version || it.ExpiresAt.IsZero() {
			t.Errorf("%s (marked outside the window) changed: %+v", id, it)
		}
	}
	if it := f.item(t, "A1ACTIVE"); it.Version != active.Version {
		t.Errorf("an active connection was written")
	}

	// Back in the due index: the next refresh run finds them.
	due := map[string]bool{}
	for shard := range dynamo.DueShards {
		err := f.tokens.Due(t.Context(), shard, now, func(page []refresh.Due) error {
			for _, d := range page {
				due[d.SellingPartnerID] = true
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if !due["A1INWINDOW1"] || !due["A1INWINDOW2"] || due["A1EARLY"] || due["A1LATE"] {
		t.Errorf("due now: %v; want exactly the re-activated ones", due)
	}

	// Again: nothing is marked in the window any more.
	if n, err := f.tokens.Reactivate(t.Context(), now.Add(-2*time.Hour), now.Add(-20*time.Minute)); err != nil || n != 0 {
		t.Errorf("second Reactivate = %d, %v; want 0", n, err)
	}
	// A zero end is now.
	if n, err := f.tokens.Reactivate(t.Context(), now.Add(-15*time.Minute), time.Time{}); err != nil || n != 1 {
		t.Errorf("Reactivate up to now = %d, %v; want A1LATE", n, err)
	}
}

// interfering re-authorizes a seller just before the first re-activation write: the connection
// changed between the scan and the write.
type interfering struct {
	*dynamodb.Client
	before func()
}

func (c *interfering) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if b := c.before; b != nil {
		c.before = nil
		b()
	}
	return c.Client.UpdateItem(ctx, in, opts...)
}

func TestReactivateLeavesAConnectionThatChanged(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.connect(t, seller, "old")
	f.markAt(t, seller, updatedAt.Add(-time.Hour))
	renewed := authorization(authorizedAt.Add(time.Minute), "new")
	store := *f.tokens
	store.Client = &interfering{Client: f.env.DynamoDB, before: func() {
		if err := f.tokens.SaveAuthorization(t.Context(), renewed); err != nil {
			t.Error(err)
		}
	}}
	n, err := store.Reactivate(t.Context(), updatedAt.Add(-2*time.Hour), updatedAt)
	if err != nil || n != 0 {
		t.Fatalf("Reactivate = %d, %v; want 0: the seller authorized again meanwhile", n, err)
	}
	if it := f.item(t, seller); it.RefreshToken != renewed.RefreshToken || it.Status != dynamo.StatusActive || it.Lifecycle != dynamo.LifecycleAuthorized {
		t.Errorf("the new authorization was overwritten: %+v", it)
	}
}

func TestReactivateRefusesAnOpenWindow(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if _, err := f.tokens.Reactivate(t.Context(), time.Time{}, updatedAt); err == nil {
		t.Error("a window without a start was accepted")
	}
	if _, err := f.tokens.Reactivate(t.Context(), updatedAt, updatedAt.Add(-time.Second)); err == nil {
		t.Error("a window that ends before it starts was accepted")
	}
	store := dynamo.TokenStore{Client: noScan{f.env.DynamoDB}, Table: f.tables.Token}
	if _, err := store.Reactivate(t.Context(), updatedAt.Add(-time.Hour), updatedAt); !errors.Is(err, dynamo.ErrCannotScan) {
		t.Errorf("err = %v, want ErrCannotScan", err)
	}
}

// noScan is a client without Scan.
type noScan struct{ dynamo.API }
