package lifecycle

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sellerauth/sellerauth/events"
)

// The values the writers (internal/dynamo, internal/authflow) store.
const (
	active = "active"
	dead   = "reauthorization_required"
)

var at = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func item(endUser, status, lifecycle string, version int64) *Item {
	return &Item{SellingPartnerID: "A1", Region: "eu", EndUserID: endUser, Status: status,
		Lifecycle: lifecycle, Version: version, AuthorizedAt: at, ReauthorizeBy: at.AddDate(0, 0, 365)}
}

func TestClassify(t *testing.T) {
	due := item("alice", active, "reauthorization_due", 5)
	due.ReauthorizationNotice = 7
	sameDue := item("alice", active, "reauthorization_due", 4)
	sameDue.ReauthorizationNotice = 7
	for _, tc := range []struct {
		name string
		c    Change
		want string
	}{
		{"first authorization", Change{EventName: "INSERT", NewToken: item("alice", active, "authorized", 1)}, events.ConnectionCreated},
		{"renewal", Change{EventName: "MODIFY", OldToken: item("alice", active, "", 7), NewToken: item("alice", active, "authorized", 8)}, events.ConnectionRenewed},
		{"back after revocation", Change{EventName: "MODIFY", OldToken: item("alice", dead, "reauthorization_required", 7), NewToken: item("alice", active, "authorized", 8)}, events.ConnectionRenewed},
		{"another user over a dead connection", Change{EventName: "MODIFY", OldToken: item("alice", dead, "", 7), NewToken: item("bob", active, "authorized", 8)}, events.ConnectionCreated},
		{"anonymous over anonymous", Change{EventName: "MODIFY", OldToken: item("", active, "", 3), NewToken: item("", active, "authorized", 4)}, events.ConnectionReplaced},
		{"restored", Change{EventName: "MODIFY", OldToken: item("bob", active, "", 3), NewToken: item("alice", active, "restored", 4)}, events.ConnectionCreated},
		{"plain refresh", Change{EventName: "MODIFY", OldToken: item("alice", active, "authorized", 1), NewToken: item("alice", active, "", 2)}, ""},
		{"revocation confirmed", Change{EventName: "MODIFY", OldToken: item("alice", active, "", 4), NewToken: item("alice", dead, "reauthorization_required", 5)}, events.ConnectionNeedsReauthorization},
		{"reminder", Change{EventName: "MODIFY", OldToken: item("alice", active, "", 4), NewToken: due}, events.ConnectionReauthorizationDue},
		{"same reminder again", Change{EventName: "MODIFY", OldToken: sameDue, NewToken: due}, ""},
		{"disconnect", Change{EventName: "REMOVE", OldToken: item("alice", active, "", 4)}, events.ConnectionDisconnected},
		{"TTL purge", Change{EventName: "REMOVE", ByTTL: true, OldToken: item("alice", dead, "", 4)}, events.ConnectionDisconnected},
		{"refused session", Change{EventName: "MODIFY", OldSession: &Session{Status: "callback"},
			NewSession: &Session{ID: "cs_x", EndUserID: "bob", Status: "failed", Error: "connected_to_another_user", OwnerEndUserID: "alice"}}, events.ConnectionRefused},
		{"other session failure", Change{EventName: "MODIFY", NewSession: &Session{Status: "failed", Error: "code_rejected"}}, ""},
		{"session connected", Change{EventName: "MODIFY", NewSession: &Session{Status: "connected"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, d, ok := Classify(tc.c)
			if got != tc.want || ok != (tc.want != "") {
				t.Fatalf("Classify = %q, %v; want %q", got, ok, tc.want)
			}
			if !ok {
				return
			}
			if _, err := (Event{DetailType: got, Detail: d}).Entry(); err != nil {
				t.Fatal(err)
			}
			switch got {
			case events.ConnectionDisconnected:
				if want := map[bool]string{false: "disconnected", true: "purged"}[tc.c.ByTTL]; d.Reason != want || d.Version != tc.c.OldToken.Version+1 {
					t.Errorf("reason %q version %d", d.Reason, d.Version)
				}
			case events.ConnectionReauthorizationDue:
				if d.DaysLeft != 7 {
					t.Errorf("days left %d", d.DaysLeft)
				}
			case events.ConnectionRefused:
				if d.OwnerEndUserID != "alice" || d.EndUserID != "bob" || d.SessionID != "cs_x" {
					t.Errorf("refused %+v", d)
				}
			}
		})
	}
}

type recordingBus struct {
	calls   [][]string
	refuse  map[string]int // seller -> refusals left
	failAll int
}

func (b *recordingBus) Put(_ context.Context, batch []Event) ([]error, error) {
	if b.failAll > 0 {
		b.failAll--
		return nil, errors.New("down")
	}
	var sellers []string
	failed := make([]error, len(batch))
	for i, e := range batch {
		sellers = append(sellers, e.Detail.SellingPartnerID)
		if b.refuse[e.Detail.SellingPartnerID] > 0 {
			b.refuse[e.Detail.SellingPartnerID]--
			failed[i] = errors.New("throttled")
		}
	}
	b.calls = append(b.calls, sellers)
	return failed, nil
}

func changes(n int) []Change {
	var out []Change
	for i := range n {
		it := item("alice", active, "authorized", 1)
		it.SellingPartnerID = string(rune('A'+i%26)) + string(rune('a'+i/26))
		out = append(out, Change{EventName: "INSERT", NewToken: it, SequenceNumber: it.SellingPartnerID})
		out = append(out, Change{EventName: "MODIFY", NewToken: item("alice", active, "", 2)}) // a refresh: no event
	}
	return out
}

func TestPublisherKeepsOrderAndRetries(t *testing.T) {
	noWait := func(context.Context, time.Duration) error { return nil }
	bus := &recordingBus{refuse: map[string]int{"Ca": 1}}
	p := &Publisher{Bus: bus, Sleep: noWait}
	cs := changes(12)
	n, err := p.Publish(t.Context(), cs)
	if err != nil || n != len(cs) {
		t.Fatalf("Publish = %d, %v", n, err)
	}
	// 12 events: a batch of 10 (one refused, sent again alone), then 2.
	if len(bus.calls) != 3 || len(bus.calls[0]) != 10 || len(bus.calls[1]) != 1 || bus.calls[1][0] != "Ca" || len(bus.calls[2]) != 2 {
		t.Fatalf("calls %v", bus.calls)
	}

	// Refused past every attempt: the first change not delivered is reported, nothing after it is skipped.
	bus = &recordingBus{refuse: map[string]int{"Ea": 5}}
	p = &Publisher{Bus: bus, Sleep: noWait, Attempts: 3}
	n, err = p.Publish(t.Context(), cs)
	if !errors.Is(err, ErrNotDelivered) || cs[n].SequenceNumber != "Ea" {
		t.Fatalf("Publish = %d (%s), %v; want the change of Ea", n, cs[n].SequenceNumber, err)
	}
	bus = &recordingBus{failAll: 3}
	p = &Publisher{Bus: bus, Sleep: noWait, Attempts: 3}
	if n, err := p.Publish(t.Context(), cs); !errors.Is(err, ErrNotDelivered) || n != 0 {
		t.Fatalf("bus down: Publish = %d, %v; want 0", n, err)
	}
}

// TestNoTokenCanReachAnEvent: the events are built from Item and Session, so neither may have a
// field that could hold a token (the decoder would fill it from the stream record).
func TestNoTokenCanReachAnEvent(t *testing.T) {
	for _, typ := range []reflect.Type{reflect.TypeFor[Item](), reflect.TypeFor[Session](), reflect.TypeFor[events.Detail]()} {
		for i := range typ.NumField() {
			if name := strings.ToLower(typ.Field(i).Name); strings.Contains(name, "token") || strings.Contains(name, "secret") {
				t.Errorf("%s.%s could carry a token into an event", typ.Name(), typ.Field(i).Name)
			}
		}
	}
}
