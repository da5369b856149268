package events_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/sellerauth/sellerauth/events"
)

// seen keeps the highest version handled per connection: events come at least once, so a
// consumer drops what it has seen (keep it in your database, not in memory, in production).
var seen sync.Map

// handle is a consumer Lambda's handler, subscribed with an EventBridge rule on source
// "sellerauth" (see docs/events.md): lambda.StartHandlerFunc(handle).
func handle(ctx context.Context, e events.Event) error {
	key := e.Detail.SellingPartnerID + "/" + e.Detail.Region
	if v, ok := seen.Load(key); ok && v.(int64) >= e.Detail.Version && e.DetailType != events.ConnectionRefused {
		return nil // a duplicate, or older than what we know
	}
	seen.Store(key, e.Detail.Version)
	switch e.DetailType {
	case events.ConnectionCreated, events.ConnectionRenewed:
		fmt.Printf("start syncing %s for user %s\n", key, e.Detail.EndUserID)
	case events.ConnectionNeedsReauthorization:
		fmt.Printf("ask user %s to connect %s again\n", e.Detail.EndUserID, key)
	case events.ConnectionReauthorizationDue:
		fmt.Printf("remind user %s: %d days left\n", e.Detail.EndUserID, e.Detail.DaysLeft)
	case events.ConnectionDisconnected:
		fmt.Printf("stop syncing %s\n", key)
	case events.ConnectionRefused:
		fmt.Printf("user %s tried %s, owned by %s\n", e.Detail.EndUserID, key, e.Detail.OwnerEndUserID)
	}
	return nil
}

// Example shows a consumer that handles each change once although events come at least once.
func Example() {
	created := `{"id":"1","detail-type":"Connection Created","source":"sellerauth","time":"2026-12-02T10:00:00Z",
	  "detail":{"end_user_id":"user-42","selling_partner_id":"A1EXAMPLE","region":"eu","account_type":"seller",
	  "status":"active","authorized_at":"2026-12-02T10:00:00Z","reauthorize_by":"2027-12-02T10:00:00Z",
	  "version":1,"occurred_at":"2026-12-02T10:00:00Z"}}`
	for range 2 { // delivered twice: handled once
		var e events.Event
		if err := json.Unmarshal([]byte(created), &e); err != nil {
			panic(err)
		}
		_ = handle(context.Background(), e)
	}
	// Output:
	// start syncing A1EXAMPLE/eu for user user-42
}

// ExampleDetailTypes builds the event pattern of an EventBridge rule that subscribes to every
// lifecycle event; list fewer detail-types to get fewer events.
func ExampleDetailTypes() {
	pattern, err := json.Marshal(map[string][]string{
		"source":      {events.Source},
		"detail-type": events.DetailTypes,
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(string(pattern))
	// Output:
	// {"detail-type":["Connection Created","Connection Renewed","Connection Refused","Connection Needs Reauthorization","Connection Reauthorization Due","Connection Disconnected","Connection Replaced"],"source":["sellerauth"]}
}
