package streams

import (
	"context"
	"encoding/json"
	"fmt"

	lambdaevents "github.com/aws/aws-lambda-go/events"
)

// Handler is a function of a DynamoDB stream event source, e.g. the events function's Handle.
type Handler func(ctx context.Context, e lambdaevents.DynamoDBEvent) (lambdaevents.DynamoDBEventResponse, error)

// Mapping is an event source mapping: a stream, the filters and batch size of the template's
// event, and the function.
type Mapping struct {
	Poller    *Poller
	Filters   []Filter
	BatchSize int
	Handler   Handler
	// Invocations counts the function's invocations; Records the records it was given.
	Invocations, Records int
}

// Poll delivers what was written since the last poll as Lambda does: records that pass no filter
// are dropped without an invocation; the rest go to the function in batches of BatchSize, in
// order per shard; a batch item failure (or a failed invocation) puts the shard back to that
// record, so the next poll delivers it (and what follows) again.
func (m *Mapping) Poll(ctx context.Context) error {
	batches, err := m.Poller.Next(ctx)
	if err != nil {
		return err
	}
	size := m.BatchSize
	if size <= 0 {
		size = 100
	}
	for _, b := range batches {
		var pass []lambdaevents.DynamoDBEventRecord
		for _, r := range b.Records {
			j, err := json.Marshal(r)
			if err != nil {
				return fmt.Errorf("record: %w", err)
			}
			ok, err := AnyMatch(m.Filters, j)
			if err != nil {
				return err
			}
			if ok {
				pass = append(pass, r)
			}
		}
		for start := 0; start < len(pass); start += size {
			batch := pass[start:min(start+size, len(pass))]
			m.Invocations++
			m.Records += len(batch)
			res, err := m.Handler(ctx, lambdaevents.DynamoDBEvent{Records: batch})
			failed := ""
			switch {
			case err != nil:
				failed = batch[0].Change.SequenceNumber
			case len(res.BatchItemFailures) > 0:
				failed = res.BatchItemFailures[0].ItemIdentifier
			}
			if failed != "" {
				if err := m.Poller.Rewind(ctx, b.Shard, failed); err != nil {
					return err
				}
				break
			}
		}
	}
	return nil
}
