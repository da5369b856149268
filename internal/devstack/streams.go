package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/sellerauth/sellerauth/internal/samtemplate"
	"github.com/sellerauth/sellerauth/internal/streams"
)

// streamPollEvery is how often each DynamoDB event's stream is read. Lambda's pollers read a
// shard about four times a second; this is close enough for a person watching the logs and
// keeps moto, which serves one request at a time, free for the functions.
const streamPollEvery = 500 * time.Millisecond

// streamRetryMax caps the wait before a batch that failed is delivered again (Lambda backs off
// as well; it also gives up after MaximumRetryAttempts, which the local stack does not).
const streamRetryMax = 8 * time.Second

// streamMapping is one DynamoDB event of a function: Lambda's event source mapping for it.
type streamMapping struct {
	lf      *lambdaFunc
	ev      samtemplate.StreamEvent
	arn     string
	mapping *streams.Mapping
	// read counts the records the stream gave the poller (filtered or not).
	read *countingStreams
	// failure is the last invocation's failure ("" after a success), for the log line.
	failure string
}

// startStreams is Lambda's event source mapping for every DynamoDB event of the functions: the
// table's stream read from the start (TRIM_HORIZON; LATEST skips what is already there), the
// event's filters applied as Lambda applies them, batches of BatchSize given to the function
// under the emulator as Lambda's DynamoDB event, and the stream put back to the first record of
// a batch item failure (or to a failed batch's first record) so that it is delivered again.
func (s *Stack) startStreams(ctx context.Context, fns []*lambdaFunc, streamARNs map[string]string) error {
	var ms []*streamMapping
	for _, lf := range fns {
		for _, ev := range lf.Streams {
			arn, ok := streamARNs[ev.Table]
			if !ok || arn == "" {
				return fmt.Errorf("%s: event %s reads the stream of %s, which is no AWS::DynamoDB::Table of template.yaml with a StreamSpecification", lf.LogicalID, ev.Name, ev.Table)
			}
			m, err := newStreamMapping(lf, ev, arn, dynamodbstreams.NewFromConfig(s.AWS))
			if err != nil {
				return err
			}
			if ev.StartingPosition == "LATEST" {
				if err := m.mapping.Poller.Skip(ctx); err != nil {
					return fmt.Errorf("%s: event %s: %w", lf.LogicalID, ev.Name, err)
				}
			}
			ms = append(ms, m)
		}
	}
	for _, m := range ms {
		s.logs.Printf("%s: event %s polls the stream of %s every %s (batch size %d, %d filter(s), %s)",
			m.lf.LogicalID, m.ev.Name, m.ev.Table, streamPollEvery, m.ev.BatchSize, len(m.ev.Filters), m.ev.StartingPosition)
		s.polling.Add(1)
		go func() {
			defer s.polling.Done()
			s.pollStream(ctx, m)
		}()
	}
	return nil
}

// newStreamMapping is the event source mapping of lf's event ev on the stream arn.
func newStreamMapping(lf *lambdaFunc, ev samtemplate.StreamEvent, arn string, client streams.API) (*streamMapping, error) {
	var filters []streams.Filter
	for _, p := range ev.Filters {
		f, err := streams.ParseFilter(p)
		if err != nil {
			return nil, fmt.Errorf("%s: event %s: %w", lf.LogicalID, ev.Name, err)
		}
		filters = append(filters, f)
	}
	m := &streamMapping{lf: lf, ev: ev, arn: arn, read: &countingStreams{API: client}}
	m.mapping = &streams.Mapping{
		Poller:    &streams.Poller{Client: m.read, StreamARN: arn},
		Filters:   filters,
		BatchSize: ev.BatchSize,
		Handler:   m.invoke,
	}
	return m, nil
}

// pollStream polls one mapping until ctx ends, logging what each poll delivered.
func (s *Stack) pollStream(ctx context.Context, m *streamMapping) {
	log := func(format string, args ...any) { s.logs.Line("streams", fmt.Sprintf(format, args...)) }
	wait := streamPollEvery
	var lastErr string
	for ctx.Err() == nil {
		sleep(ctx, wait)
		if ctx.Err() != nil {
			return
		}
		started := time.Now()
		read0, inv0, rec0 := m.read.records.Load(), m.mapping.Invocations, m.mapping.Records
		m.failure = ""
		err := m.mapping.Poll(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if err.Error() != lastErr { // once per kind of failure, not every poll
				log("%s: %v", m.ev.Name, err)
				lastErr = err.Error()
			}
			wait = time.Second
			continue
		}
		lastErr = ""
		read, invocations, delivered := int(m.read.records.Load()-read0), m.mapping.Invocations-inv0, m.mapping.Records-rec0
		took := time.Since(started).Round(time.Millisecond)
		switch {
		case m.failure != "":
			wait = min(max(2*wait, time.Second), streamRetryMax)
			log("%s: %d record(s) -> %s: %s; the stream goes back to that record, delivered again in %s (%s)",
				m.ev.Name, delivered, m.lf.name, m.failure, wait, took)
		case read == 0:
			wait = streamPollEvery
		case invocations == 0:
			wait = streamPollEvery
			log("%s: %d record(s), all filtered out: no invocation", m.ev.Name, read)
		default:
			wait = streamPollEvery
			msg := fmt.Sprintf("%s: %d record(s) -> %s (%d filtered out)", m.ev.Name, delivered, m.lf.name, read-delivered)
			if invocations > 1 {
				msg += fmt.Sprintf(" in %d invocations", invocations)
			}
			log("%s (%s)", msg, took)
		}
	}
}

// invoke is the mapping's Handler: the batch goes to the function's bootstrap under the emulator
// as the DynamoDB event Lambda sends, and its answer is read as Lambda reads it. The event holds
// the table's items (tokens included, as at AWS): it is never logged.
func (m *streamMapping) invoke(ctx context.Context, e lambdaevents.DynamoDBEvent) (lambdaevents.DynamoDBEventResponse, error) {
	event, err := json.Marshal(e)
	if err != nil {
		return lambdaevents.DynamoDBEventResponse{}, err
	}
	answer, err := m.lf.invoke(ctx, event)
	if err != nil {
		m.failure = "the batch failed: " + err.Error()
		return lambdaevents.DynamoDBEventResponse{}, err
	}
	seq, err := firstBatchItemFailure(answer, e.Records, m.ev.ReportBatchItemFailures)
	if err != nil {
		m.failure = "the batch failed: " + err.Error()
		return lambdaevents.DynamoDBEventResponse{}, err
	}
	if seq == "" {
		return lambdaevents.DynamoDBEventResponse{}, nil
	}
	m.failure = "batch item failure at sequence number " + seq
	return lambdaevents.DynamoDBEventResponse{BatchItemFailures: []lambdaevents.DynamoDBBatchItemFailure{{ItemIdentifier: seq}}}, nil
}

// firstBatchItemFailure reads the function's answer as Lambda does for a stream: with
// ReportBatchItemFailures the stream resumes at the earliest listed record; an empty or null
// answer or list is a success; an answer that is not a batch response, or names a record not in
// the batch (or none), fails the whole batch. Without ReportBatchItemFailures the answer is not
// read.
func firstBatchItemFailure(answer []byte, records []lambdaevents.DynamoDBEventRecord, report bool) (string, error) {
	if !report || len(answer) == 0 || string(answer) == "null" {
		return "", nil
	}
	var resp struct {
		BatchItemFailures []struct {
			ItemIdentifier *string `json:"itemIdentifier"`
		} `json:"batchItemFailures"`
	}
	if err := json.Unmarshal(answer, &resp); err != nil {
		return "", errors.New("the answer is not a batch response")
	}
	pos := map[string]int{}
	for i, r := range records {
		pos[r.Change.SequenceNumber] = i
	}
	first := -1
	for _, f := range resp.BatchItemFailures {
		id := ""
		if f.ItemIdentifier != nil {
			id = *f.ItemIdentifier
		}
		i, ok := pos[id]
		if id == "" || !ok {
			return "", fmt.Errorf("batchItemFailures names %q, not a record of the batch", id)
		}
		if first < 0 || i < first {
			first = i
		}
	}
	if first < 0 {
		return "", nil
	}
	return records[first].Change.SequenceNumber, nil
}

// countingStreams counts the records GetRecords returns, so that a poll's log line can say how
// many the filters dropped.
type countingStreams struct {
	streams.API
	records atomic.Int64
}

func (c *countingStreams) GetRecords(ctx context.Context, in *dynamodbstreams.GetRecordsInput, optFns ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error) {
	out, err := c.API.GetRecords(ctx, in, optFns...)
	if err == nil {
		c.records.Add(int64(len(out.Records)))
	}
	return out, err
}
