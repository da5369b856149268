package devstack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/sellerauth/sellerauth/events"
	"github.com/sellerauth/sellerauth/internal/samtemplate"
)

// TestStreamMappingsOfTheRepositoryTemplate: every DynamoDB event of template.yaml (which
// internal/samtemplate reads) makes a stream mapping here, its filters parsed as Lambda parses
// them, and the events function's bus is the template's default.
func TestStreamMappingsOfTheRepositoryTemplate(t *testing.T) {
	fns := repositoryFunctions(t)
	mappings := 0
	for _, f := range fns {
		for _, ev := range f.Streams {
			mappings++
			if _, err := newStreamMapping(&lambdaFunc{}, ev, "arn", nil); err != nil {
				t.Errorf("%s %s: the filters do not parse: %v", f.LogicalID, ev.Name, err)
			}
		}
	}
	if mappings == 0 {
		t.Error("no DynamoDB event in template.yaml")
	}
	if bus, err := eventBusOf(fns); err != nil || bus != "default" {
		t.Errorf("event bus %q, %v; want the template's default", bus, err)
	}
}

// repositoryFunctions are template.yaml's functions, resolved before any resource exists.
func repositoryFunctions(t *testing.T) []samtemplate.Function {
	t.Helper()
	path, err := samtemplate.Find()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := samtemplate.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	fns, err := tpl.Functions(samtemplate.Resolver{Region: Region, Lenient: true})
	if err != nil {
		t.Fatal(err)
	}
	return fns
}

// fakeStream is one shard of a DynamoDB stream in memory; iterators are record positions.
type fakeStream struct {
	records []types.Record
}

func (f *fakeStream) DescribeStream(context.Context, *dynamodbstreams.DescribeStreamInput, ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error) {
	return &dynamodbstreams.DescribeStreamOutput{StreamDescription: &types.StreamDescription{Shards: []types.Shard{{ShardId: aws.String("shard-1")}}}}, nil
}

func (f *fakeStream) GetShardIterator(_ context.Context, in *dynamodbstreams.GetShardIteratorInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error) {
	pos := 0
	if in.ShardIteratorType != types.ShardIteratorTypeTrimHorizon {
		pos = slices.IndexFunc(f.records, func(r types.Record) bool {
			return aws.ToString(r.Dynamodb.SequenceNumber) == aws.ToString(in.SequenceNumber)
		})
		if pos < 0 {
			return nil, fmt.Errorf("no sequence number %s", aws.ToString(in.SequenceNumber))
		}
		if in.ShardIteratorType == types.ShardIteratorTypeAfterSequenceNumber {
			pos++
		}
	}
	return &dynamodbstreams.GetShardIteratorOutput{ShardIterator: aws.String(strconv.Itoa(pos))}, nil
}

func (f *fakeStream) GetRecords(_ context.Context, in *dynamodbstreams.GetRecordsInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error) {
	pos, _ := strconv.Atoi(aws.ToString(in.ShardIterator))
	return &dynamodbstreams.GetRecordsOutput{Records: f.records[pos:], NextShardIterator: aws.String(strconv.Itoa(len(f.records)))}, nil
}

func (f *fakeStream) write(seq, eventName string) {
	f.records = append(f.records, types.Record{EventName: types.OperationType(eventName), Dynamodb: &types.StreamRecord{
		SequenceNumber: aws.String(seq),
		Keys:           map[string]types.AttributeValue{"selling_partner_id": &types.AttributeValueMemberS{Value: "A1"}},
	}})
}

// fakeFunction is a function under the emulator: it records the sequence numbers of each
// invocation's records and gives the answers it is told, in turn (then successes).
type fakeFunction struct {
	mu      sync.Mutex
	batches [][]string
	answers []string
}

func (f *fakeFunction) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var e lambdaevents.DynamoDBEvent
	if err := json.Unmarshal(body, &e); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var seqs []string
	for _, rec := range e.Records {
		if rec.EventSource != "aws:dynamodb" || rec.EventSourceArn != "arn:stream" {
			http.Error(w, "not a DynamoDB stream record of arn:stream", http.StatusBadRequest)
			return
		}
		seqs = append(seqs, rec.Change.SequenceNumber)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.batches = append(f.batches, seqs)
	answer := `{"batchItemFailures":[]}`
	if len(f.answers) > 0 {
		answer, f.answers = f.answers[0], f.answers[1:]
	}
	io.WriteString(w, answer)
}

// TestStreamMappingRewinds: records that pass no filter never reach the function; a batch item
// failure, or a failed invocation, delivers the stream again from that record (or from the
// batch's first), as Lambda does; without ReportBatchItemFailures the answer is not read.
func TestStreamMappingRewinds(t *testing.T) {
	ctx := t.Context()
	for _, tc := range []struct {
		name    string
		report  bool
		answers []string
		want    [][]string
	}{
		{"success", true, nil, [][]string{{"1", "3", "4"}}},
		{"batch item failure", true, []string{`{"batchItemFailures":[{"itemIdentifier":"4"},{"itemIdentifier":"3"}]}`}, [][]string{{"1", "3", "4"}, {"3", "4"}}},
		{"function error", true, []string{`{"errorType":"Boom","errorMessage":"boom"}`}, [][]string{{"1", "3", "4"}, {"1", "3", "4"}}},
		{"unknown record", true, []string{`{"batchItemFailures":[{"itemIdentifier":"2"}]}`}, [][]string{{"1", "3", "4"}, {"1", "3", "4"}}},
		{"not reported", false, []string{`{"batchItemFailures":[{"itemIdentifier":"3"}]}`}, [][]string{{"1", "3", "4"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fn := &fakeFunction{answers: tc.answers}
			srv := httptest.NewServer(fn)
			defer srv.Close()
			stream := &fakeStream{}
			stream.write("1", "INSERT")
			stream.write("2", "MODIFY") // a plain refresh: filtered out
			stream.write("3", "REMOVE")
			stream.write("4", "INSERT")
			lf := &lambdaFunc{Function: samtemplate.Function{LogicalID: "EventsFunction", Timeout: 3}, name: "events", url: srv.URL}
			m, err := newStreamMapping(lf, samtemplate.StreamEvent{Name: "TokenChanges", BatchSize: 100, ReportBatchItemFailures: tc.report,
				Filters: []string{`{"eventName": ["INSERT", "REMOVE"]}`}}, "arn:stream", stream)
			if err != nil {
				t.Fatal(err)
			}
			for range 3 {
				if err := m.mapping.Poll(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if !slices.EqualFunc(fn.batches, tc.want, slices.Equal) {
				t.Errorf("invocations %v, want %v", fn.batches, tc.want)
			}
			if got := m.read.records.Load(); got < 4 {
				t.Errorf("%d records counted as read, want at least 4", got)
			}
		})
	}
}

func TestEventLogKeepsTheLast50Once(t *testing.T) {
	var l eventLog
	for i := range 60 {
		if !l.add(events.Event{ID: strconv.Itoa(i), DetailType: events.ConnectionCreated}) {
			t.Fatalf("event %d refused", i)
		}
	}
	if l.add(events.Event{ID: "59"}) {
		t.Error("an event delivered twice was kept twice")
	}
	got := l.list()
	if len(got) != recentEventsKept || got[0].ID != "59" || got[len(got)-1].ID != "10" {
		t.Fatalf("kept %d events, newest %s, oldest %s", len(got), got[0].ID, got[len(got)-1].ID)
	}
	if !l.add(events.Event{ID: "5"}) {
		t.Error("an event dropped from the list is still remembered as seen")
	}
}
