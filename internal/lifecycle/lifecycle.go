// Package lifecycle turns the changes DynamoDB streams report on the token and session tables into
// the lifecycle events of package events, and hands them to the event bus in stream order. It is
// the only producer of events: every writer of a connection writes to the table, and the table's
// stream carries each change here, so no write path can change a connection without its event. It
// is free of AWS: the function's adapter decodes the stream records and implements Bus.
package lifecycle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sellerauth/sellerauth/events"
)

// Item is what the events need of a token table item (an image of a stream record). It is its
// own small type, decoded by the function's adapter straight from the stream record, so that the
// events function links neither the DynamoDB client nor its schemas: each linked package's init
// runs on every cold start (make bench-coldstart).
type Item struct {
	SellingPartnerID      string
	Region                string
	AccountType           string
	Status                string // active, reauthorization_required
	EndUserID             string
	AuthorizedAt          time.Time
	ReauthorizeBy         time.Time
	Version               int64
	Lifecycle             string // the marker of a lifecycle write (docs/events.md)
	SessionID             string
	ReauthorizationNotice int
}

// Session is what the events need of a connect session's item.
type Session struct {
	ID               string
	EndUserID        string
	Status           string
	Error            string
	SellingPartnerID string
	Region           string
	AccountType      string
	OwnerEndUserID   string
}

// The values the classification compares against: the token table's statuses and lifecycle
// markers, and the session's (internal/dynamo and internal/authflow write them; the events tests
// in internal/fn drive the real writers, so a renamed value fails there).
const (
	statusActive               = "active"
	lifecycleAuthorized        = "authorized"
	lifecycleRestored          = "restored"
	lifecycleReauthRequired    = "reauthorization_required"
	lifecycleReauthDue         = "reauthorization_due"
	sessionFailed              = "failed"
	sessionConnectedToAnotherU = "connected_to_another_user"
)

// Change is one stream record, decoded.
type Change struct {
	// SequenceNumber identifies the record for Lambda's batch item failures.
	SequenceNumber string
	EventName      string // INSERT, MODIFY or REMOVE
	// ByTTL is set on a REMOVE that DynamoDB's TTL made (the record's user identity is the
	// DynamoDB service).
	ByTTL bool
	At    time.Time // when the change happened (the record's approximate creation time)
	// Exactly one of the pairs is set: a token-table record or a session-table record.
	OldToken, NewToken     *Item
	OldSession, NewSession *Session
}

// Event is one event for the bus.
type Event struct {
	DetailType string
	Detail     events.Detail
	// Change is the index of the change in the batch it came from.
	Change int
}

// Entry is the event as JSON, ready for the bus.
func (e Event) Entry() (string, error) {
	b, err := json.Marshal(e.Detail)
	if err != nil {
		return "", fmt.Errorf("marshal detail: %w", err)
	}
	return string(b), nil
}

// Classify says which event, if any, a change is. A change that is not a lifecycle change (a
// record the stream filter would have dropped, a session's ordinary progress) is none.
func Classify(c Change) (string, events.Detail, bool) {
	switch {
	case c.NewSession != nil || c.OldSession != nil:
		return classifySession(c)
	case c.EventName == "REMOVE" && c.OldToken != nil:
		d := detail(*c.OldToken, c.At)
		d.Status = "disconnected"
		d.Reason = "disconnected"
		if c.ByTTL {
			d.Reason = "purged"
		}
		d.Version++ // a removal is a change after the last version
		return events.ConnectionDisconnected, d, true
	case c.NewToken == nil || c.NewToken.Lifecycle == "":
		return "", events.Detail{}, false
	}
	n := *c.NewToken
	d := detail(n, c.At)
	switch n.Lifecycle {
	case lifecycleReauthRequired:
		return events.ConnectionNeedsReauthorization, d, true
	case lifecycleReauthDue:
		if c.OldToken != nil && c.OldToken.ReauthorizationNotice == n.ReauthorizationNotice {
			return "", events.Detail{}, false // the same notice again: not a change
		}
		d.DaysLeft = n.ReauthorizationNotice
		return events.ConnectionReauthorizationDue, d, true
	case lifecycleAuthorized, lifecycleRestored:
		if c.OldToken != nil && c.OldToken.Lifecycle == n.Lifecycle && c.OldToken.Version == n.Version {
			return "", events.Detail{}, false
		}
		return classifyAuthorization(c.OldToken, n, d)
	}
	return "", events.Detail{}, false
}

// classifyAuthorization names a new authorization by what it replaced: nothing (or a dead
// connection of someone else) is a new connection; the same user's a renewal; another anonymous
// authorization's, in anonymous mode, a replacement.
func classifyAuthorization(old *Item, n Item, d events.Detail) (string, events.Detail, bool) {
	d.SessionID = n.SessionID
	if old == nil || old.Status == "" {
		return events.ConnectionCreated, d, true
	}
	d.PreviousEndUserID = old.EndUserID
	switch {
	case old.EndUserID == n.EndUserID && n.EndUserID != "":
		return events.ConnectionRenewed, d, true
	case old.EndUserID == "" && n.EndUserID == "" && old.Status == statusActive:
		return events.ConnectionReplaced, d, true
	case old.EndUserID == "" && n.EndUserID == "":
		return events.ConnectionRenewed, d, true // the anonymous seller again, after its connection died
	default:
		return events.ConnectionCreated, d, true
	}
}

// classifySession: a session refused because another user owns the connection is the one
// session change that is an event; the rest of a session's progress the app reads from the API.
func classifySession(c Change) (string, events.Detail, bool) {
	n := c.NewSession
	if c.EventName != "MODIFY" || n == nil || n.Status != sessionFailed || n.Error != sessionConnectedToAnotherU {
		return "", events.Detail{}, false
	}
	if c.OldSession != nil && c.OldSession.Status == sessionFailed {
		return "", events.Detail{}, false
	}
	return events.ConnectionRefused, events.Detail{
		EndUserID:        n.EndUserID,
		SellingPartnerID: n.SellingPartnerID,
		Region:           n.Region,
		AccountType:      n.AccountType,
		Status:           "refused",
		OwnerEndUserID:   n.OwnerEndUserID,
		SessionID:        n.ID,
		OccurredAt:       c.At.UTC(),
	}, true
}

func detail(it Item, at time.Time) events.Detail {
	return events.Detail{
		EndUserID:        it.EndUserID,
		SellingPartnerID: it.SellingPartnerID,
		Region:           it.Region,
		AccountType:      it.AccountType,
		Status:           it.Status,
		AuthorizedAt:     timePtr(it.AuthorizedAt),
		ReauthorizeBy:    timePtr(it.ReauthorizeBy),
		Version:          it.Version,
		OccurredAt:       at.UTC(),
	}
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// Bus puts events on the event bus. Put returns, for each event in order, nil or why that event
// was not accepted (EventBridge accepts a batch partly); err is for the whole call.
type Bus interface {
	Put(ctx context.Context, batch []Event) (failed []error, err error)
}

// MaxBatch is the most events one Put carries (EventBridge's PutEvents limit).
const MaxBatch = 10

// Publisher sends a batch of changes' events, in order.
type Publisher struct {
	Bus Bus
	// Attempts bounds how often an event the bus refused is sent again within one invocation
	// before the change is reported back to Lambda (default 3).
	Attempts int
	// Sleep waits between attempts; nil means time.Sleep with the context.
	Sleep func(ctx context.Context, d time.Duration) error
}

// ErrNotDelivered wraps why events could not be delivered.
var ErrNotDelivered = errors.New("events not delivered")

// Publish sends the events of changes in stream order and returns the index of the first change
// whose event could not be delivered (len(changes) when all were). Lambda then retries the batch
// from that record (ReportBatchItemFailures with a stream source checkpoints there), so nothing
// is lost and order per connection is kept; events after it that were delivered come again,
// with the same version, for the consumer to drop.
func (p *Publisher) Publish(ctx context.Context, changes []Change) (int, error) {
	var evs []Event
	for i, c := range changes {
		if t, d, ok := Classify(c); ok {
			evs = append(evs, Event{DetailType: t, Detail: d, Change: i})
		}
	}
	for start := 0; start < len(evs); start += MaxBatch {
		batch := evs[start:min(start+MaxBatch, len(evs))]
		if i, err := p.putAll(ctx, batch); err != nil {
			return batch[i].Change, err
		}
	}
	return len(changes), nil
}

// putAll sends a batch, sending again what the bus refused, and returns the position of the first
// event still refused after the last attempt.
func (p *Publisher) putAll(ctx context.Context, batch []Event) (int, error) {
	attempts := p.Attempts
	if attempts <= 0 {
		attempts = 3
	}
	pending := make([]int, len(batch)) // positions in batch still to send
	for i := range pending {
		pending[i] = i
	}
	var last error
	for attempt := 0; attempt < attempts; attempt++ {
		if attempt > 0 {
			if err := p.sleep(ctx, time.Duration(100<<attempt)*time.Millisecond); err != nil {
				return pending[0], fmt.Errorf("%w: %w", ErrNotDelivered, err)
			}
		}
		send := make([]Event, len(pending))
		for i, pos := range pending {
			send[i] = batch[pos]
		}
		failed, err := p.Bus.Put(ctx, send)
		if err != nil {
			last = err
			continue
		}
		var still []int
		for i, ferr := range failed {
			if ferr != nil {
				still = append(still, pending[i])
				last = ferr
			}
		}
		if len(still) == 0 {
			return 0, nil
		}
		pending = still
	}
	return pending[0], fmt.Errorf("%w after %d attempts: %w", ErrNotDelivered, attempts, last)
}

func (p *Publisher) sleep(ctx context.Context, d time.Duration) error {
	if p.Sleep != nil {
		return p.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
