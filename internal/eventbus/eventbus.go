// Package eventbus puts lifecycle events on an Amazon EventBridge bus: the adapter behind
// lifecycle.Bus. One PutEvents call carries up to ten events; EventBridge accepts a call partly,
// and each refused entry is reported back so that only it is sent again.
package eventbus

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/sellerauth/sellerauth/events"
	"github.com/sellerauth/sellerauth/internal/lifecycle"
)

// API is the part of the EventBridge client the bus uses.
type API interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// Bus puts events on one event bus.
type Bus struct {
	Client API
	Name   string // the bus name or ARN; "default" for the account's default bus
}

var _ lifecycle.Bus = (*Bus)(nil)

// Put sends one batch (at most lifecycle.MaxBatch events).
func (b *Bus) Put(ctx context.Context, batch []lifecycle.Event) ([]error, error) {
	entries := make([]types.PutEventsRequestEntry, len(batch))
	for i, e := range batch {
		detail, err := e.Entry()
		if err != nil {
			return nil, err
		}
		entries[i] = types.PutEventsRequestEntry{
			EventBusName: aws.String(b.Name),
			Source:       aws.String(events.Source),
			DetailType:   aws.String(e.DetailType),
			Detail:       aws.String(detail),
			Time:         aws.Time(e.Detail.OccurredAt),
		}
	}
	out, err := b.Client.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entries})
	if err != nil {
		return nil, fmt.Errorf("put events: %w", err)
	}
	failed := make([]error, len(batch))
	if out.FailedEntryCount == 0 {
		return failed, nil
	}
	if len(out.Entries) != len(batch) {
		return nil, errors.New("put events: the answer does not list every entry")
	}
	for i, e := range out.Entries {
		if e.ErrorCode != nil {
			failed[i] = fmt.Errorf("put events: entry refused: %s", aws.ToString(e.ErrorCode))
		}
	}
	return failed, nil
}
