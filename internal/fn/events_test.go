package fn_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sellerauth/sellerauth/events"
	"github.com/sellerauth/sellerauth/internal/amazon"
	"github.com/sellerauth/sellerauth/internal/dynamo"
	eventsfn "github.com/sellerauth/sellerauth/internal/fn/events"
	refreshfn "github.com/sellerauth/sellerauth/internal/fn/refresh"
	"github.com/sellerauth/sellerauth/internal/lifecycle"
	"github.com/sellerauth/sellerauth/internal/streams"
)

// eventPipe is the events function deployed as the template says: each table's stream polled as
// Lambda's event source mapping polls it (with the template's filters and batch size), the
// function putting events on an EventBridge bus of moto, and a rule on that bus sending them to an
// SQS queue, which the test reads as a consumer would.
type eventPipe struct {
	t        *testing.T
	mappings []*streams.Mapping
	handler  *eventsfn.Handler
	sqs      *sqs.Client
	queue    string
	seen     []events.Event
}

func (s *stack) withEventPipe() *eventPipe {
	t := s.t
	ctx := t.Context()
	cfg := s.aws.Config
	eb := eventbridge.NewFromConfig(cfg)
	bus := fmt.Sprintf("sellerauth-test-%d", time.Now().UnixNano())
	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(bus)}); err != nil {
		t.Fatal(err)
	}
	q := sqs.NewFromConfig(cfg)
	queue, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(bus)})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: queue.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	pattern, _ := json.Marshal(map[string]any{"source": []string{events.Source}, "detail-type": events.DetailTypes})
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("all"), EventBusName: aws.String(bus), EventPattern: aws.String(string(pattern))}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("all"), EventBusName: aws.String(bus),
		Targets: []ebtypes.Target{{Id: aws.String("consumer"), Arn: aws.String(attrs.Attributes["QueueArn"])}}}); err != nil {
		t.Fatal(err)
	}
	s.env["EVENT_BUS_NAME"] = bus
	h, err := eventsfn.New(s.runtime(cfg))
	if err != nil {
		t.Fatal(err)
	}
	p := &eventPipe{t: t, handler: h, sqs: q, queue: aws.ToString(queue.QueueUrl)}
	db := dynamodb.NewFromConfig(cfg)
	st := dynamodbstreams.NewFromConfig(cfg)
	for _, m := range []struct{ table, event string }{{s.tables.Token, "TokenChanges"}, {s.tables.Session, "SessionRefusals"}} {
		desc, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(m.table)})
		if err != nil {
			t.Fatal(err)
		}
		filters, batch := templateStreamEvent(t, "EventsFunction", m.event)
		p.mappings = append(p.mappings, &streams.Mapping{
			Poller:    &streams.Poller{Client: st, StreamARN: aws.ToString(desc.Table.LatestStreamArn)},
			Filters:   filters,
			BatchSize: batch,
			Handler:   h.Handle,
		})
	}
	return p
}

// invocations is how often the function was invoked so far, over both streams.
func (p *eventPipe) invocations() int {
	n := 0
	for _, m := range p.mappings {
		n += m.Invocations
	}
	return n
}

// drain delivers what the streams hold and returns the events the consumer received since.
func (p *eventPipe) drain() []events.Event {
	p.t.Helper()
	ctx := p.t.Context()
	for _, m := range p.mappings {
		if err := m.Poll(ctx); err != nil {
			p.t.Fatal(err)
		}
	}
	var got []events.Event
	for {
		out, err := p.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(p.queue), MaxNumberOfMessages: 10})
		if err != nil {
			p.t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			body := aws.ToString(m.Body)
			eventBodies.Write([]byte(body + "\n")) // TestMain searches them for every token

			var e events.Event
			if err := json.Unmarshal([]byte(body), &e); err != nil {
				p.t.Fatalf("event %s: %v", body, err)
			}
			checkSchema(p.t, body)
			got = append(got, e)
			if _, err := p.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(p.queue), ReceiptHandle: m.ReceiptHandle}); err != nil {
				p.t.Fatal(err)
			}
		}
	}
	p.seen = append(p.seen, got...)
	return got
}

// eventBodies collects every event the suite received; TestMain searches them for every token,
// as it searches the logs.
var eventBodies = &lockedBuffer{}

func detailTypes(evs []events.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.DetailType
	}
	return out
}

func one(t *testing.T, evs []events.Event, detailType string) events.Detail {
	t.Helper()
	if len(evs) != 1 || evs[0].DetailType != detailType || evs[0].Source != events.Source {
		t.Fatalf("events %v, want one %q", detailTypes(evs), detailType)
	}
	return evs[0].Detail
}

// TestEveryLifecycleChangeIsAnEvent drives the real write paths (connect sessions, the callback,
// the refresh job, the backend's disconnect) and reads what an EventBridge rule delivers.
func TestEveryLifecycleChangeIsAnEvent(t *testing.T) {
	s := newStack(t, withSessions(), withEnv("INVALID_GRANT_CONFIRMATIONS", "2"), withEnv("INVALID_GRANT_CONFIRM_SECONDS", "0"))
	p := s.withEventPipe()

	aliceSession, _ := s.connectAs(alice, sellerID)
	d := one(t, p.drain(), events.ConnectionCreated)
	if d.EndUserID != alice || d.SellingPartnerID != sellerID || d.Region != "eu" || d.Status != "active" ||
		d.SessionID != aliceSession || d.Version != 1 || d.AuthorizedAt == nil || !d.ReauthorizeBy.Equal(d.AuthorizedAt.AddDate(0, 0, 365)) {
		t.Fatalf("Connection Created = %+v", d)
	}

	s.clock.Advance(time.Minute)
	bobSession, _ := s.connectAs(bob, sellerID)
	d = one(t, p.drain(), events.ConnectionRefused)
	if d.EndUserID != bob || d.OwnerEndUserID != alice || d.SellingPartnerID != sellerID || d.SessionID != bobSession {
		t.Fatalf("Connection Refused = %+v", d)
	}

	s.clock.Advance(time.Minute)
	s.connectAs(alice, sellerID)
	d = one(t, p.drain(), events.ConnectionRenewed)
	if d.EndUserID != alice || d.PreviousEndUserID != alice || d.Version != 2 {
		t.Fatalf("Connection Renewed = %+v", d)
	}

	// Refreshes: the function is not invoked at all.
	refresh, err := refreshfn.New(s.runtime(s.cfg))
	if err != nil {
		t.Fatal(err)
	}
	before := p.invocations()
	for range 3 {
		s.clock.Advance(time.Hour - dynamo.RefreshLead)
		if res, err := refresh.Handle(t.Context(), json.RawMessage(`{}`)); err != nil || res.Refreshed != 1 {
			t.Fatalf("refresh run: %+v, %v", res, err)
		}
	}
	if got := p.drain(); len(got) != 0 || p.invocations() != before {
		t.Fatalf("three refreshes: %d invocations, events %v; want none", p.invocations()-before, detailTypes(got))
	}

	// 30 days before reauthorize_by: one reminder, and not again on the next refreshes.
	it := s.tokenItem(sellerID, amazon.RegionEU)
	s.clock.Advance(it.ReauthorizeBy.Add(-30*24*time.Hour + time.Hour).Sub(s.clock.Now()))
	for range 3 {
		s.clock.Advance(time.Hour - dynamo.RefreshLead)
		if _, err := refresh.Handle(t.Context(), json.RawMessage(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	d = one(t, p.drain(), events.ConnectionReauthorizationDue)
	if d.DaysLeft != 30 || d.EndUserID != alice {
		t.Fatalf("Connection Reauthorization Due = %+v", d)
	}

	// The seller revokes the app: confirmed after two invalid_grant answers.
	s.amazon.Revoke(sellerID)
	for range 2 {
		s.clock.Advance(time.Hour)
		if _, err := refresh.Handle(t.Context(), json.RawMessage(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	d = one(t, p.drain(), events.ConnectionNeedsReauthorization)
	if d.Status != "reauthorization_required" || d.EndUserID != alice {
		t.Fatalf("Connection Needs Reauthorization = %+v", d)
	}

	// The app disconnects.
	path := map[string]string{"selling_partner_id": sellerID, "region": "eu"}
	if status, _, _ := s.backend(backendEvent(t, "DELETE /connections/{selling_partner_id}/{region}", "", path, "")); status != http.StatusNoContent {
		t.Fatalf("disconnect: %d", status)
	}
	d = one(t, p.drain(), events.ConnectionDisconnected)
	if d.Status != "disconnected" || d.Reason != "disconnected" || d.EndUserID != alice {
		t.Fatalf("Connection Disconnected = %+v", d)
	}

	// Versions grow along the connection's life, so a consumer can drop what it has seen.
	var last int64
	for _, e := range p.seen {
		if e.DetailType == events.ConnectionRefused {
			continue
		}
		if e.Detail.Version <= last {
			t.Fatalf("versions %v do not grow", p.seen)
		}
		last = e.Detail.Version
	}
}

// TestAnonymousReplacementIsAnEvent: in anonymous mode an authorization that replaces an active
// one of the same seller is Connection Replaced, the record an operator looks at.
func TestAnonymousReplacementIsAnEvent(t *testing.T) {
	s := newStack(t)
	p := s.withEventPipe()
	state, _ := s.startWebsite("")
	s.callbackWith(state, s.consent(), stateCookie(state))
	one(t, p.drain(), events.ConnectionCreated)
	s.clock.Advance(time.Minute)
	state, _ = s.startWebsite("")
	s.callbackWith(state, s.consent(), stateCookie(state))
	if d := one(t, p.drain(), events.ConnectionReplaced); d.EndUserID != "" || d.Version != 2 {
		t.Fatalf("Connection Replaced = %+v", d)
	}
	if it := s.tokenItem(sellerID, amazon.RegionNA); it.PreviousRefreshToken == "" {
		t.Fatal("the replaced refresh token was not kept")
	}
}

// flakyBus refuses some entries, or whole calls, before passing them on.
type flakyBus struct {
	next          lifecycle.Bus
	refuseEntries int // refuse the first entry of this many calls
	failCalls     int // fail this many calls outright
	// refuseSeller refuses the entries of one seller this many times.
	refuseSeller string
	refusals     int
}

func (b *flakyBus) Put(ctx context.Context, batch []lifecycle.Event) ([]error, error) {
	if b.failCalls > 0 {
		b.failCalls--
		return nil, errors.New("injected: EventBridge unavailable")
	}
	if b.refuseEntries > 0 {
		b.refuseEntries--
		failed, err := b.next.Put(ctx, batch[1:])
		return append([]error{errors.New("injected: ThrottlingException")}, failed...), err
	}
	var pass []lifecycle.Event
	var at []int
	failed := make([]error, len(batch))
	for i, e := range batch {
		if b.refusals > 0 && e.Detail.SellingPartnerID == b.refuseSeller {
			b.refusals--
			failed[i] = errors.New("injected: InternalFailure")
			continue
		}
		pass, at = append(pass, e), append(at, i)
	}
	if len(pass) == 0 {
		return failed, nil
	}
	sent, err := b.next.Put(ctx, pass)
	if err != nil {
		return nil, err
	}
	for j, e := range sent {
		failed[at[j]] = e
	}
	return failed, nil
}

// TestEventBridgeFailuresLoseNothing: a refused entry is sent again; a bus that stays down makes
// the batch come back from the stream (Lambda's retry), and the consumer gets every event, with
// duplicates carrying the same version.
func TestEventBridgeFailuresLoseNothing(t *testing.T) {
	s := newStack(t, withSessions())
	p := s.withEventPipe()
	pub := p.handler.Publisher
	flaky := &flakyBus{next: pub.Bus, refuseEntries: 1}
	pub.Bus, pub.Sleep = flaky, func(context.Context, time.Duration) error { return nil }

	s.connectAs(alice, sellerID)
	if got := p.drain(); len(got) != 1 {
		t.Fatalf("after a refused entry: %v", detailTypes(got))
	}

	flaky.failCalls = 3 // every attempt of this invocation
	s.clock.Advance(time.Minute)
	s.connectAs(alice, "A2SECONDSELLER")
	s.clock.Advance(time.Minute)
	s.connectAs(alice, "A3THIRDSELLER")
	if got := p.drain(); len(got) != 0 {
		t.Fatalf("while EventBridge is down: %v", detailTypes(got))
	}
	got := p.drain() // Lambda's retry: from the failed record on
	sellers := []string{}
	for _, e := range got {
		sellers = append(sellers, e.Detail.SellingPartnerID)
	}
	slices.Sort(sellers)
	if !slices.Equal(sellers, []string{"A2SECONDSELLER", "A3THIRDSELLER"}) {
		t.Fatalf("after the retry: %v", sellers)
	}

	// One event refused on every attempt while the next one went through: Lambda's retry from
	// the refused record sends the later one again, with the same version.
	flaky.refuseSeller, flaky.refusals = "A5FIFTHSELLER", 3
	s.clock.Advance(time.Minute)
	s.connectAs(alice, "A4FOURTHSELLER")
	s.clock.Advance(time.Minute)
	s.connectAs(alice, "A5FIFTHSELLER")
	s.clock.Advance(time.Minute)
	s.connectAs(alice, "A6SIXTHSELLER")
	first := p.drain()
	second := p.drain()
	versions := map[string][]int64{}
	for _, e := range append(first, second...) {
		versions[e.Detail.SellingPartnerID] = append(versions[e.Detail.SellingPartnerID], e.Detail.Version)
	}
	if len(versions["A4FOURTHSELLER"]) != 1 || len(versions["A5FIFTHSELLER"]) != 1 ||
		!slices.Equal(versions["A6SIXTHSELLER"], []int64{1, 1}) {
		t.Fatalf("deliveries per seller (versions): %v; want the sixth twice with one version", versions)
	}
}

// templateStreamEvent reads a function's DynamoDB event from template.yaml: its filter patterns
// and batch size, so that the tests filter exactly as the deployed mapping does.
func templateStreamEvent(t *testing.T, function, event string) ([]streams.Filter, int) {
	t.Helper()
	tpl := loadTemplate(t)
	evs, _ := tpl.Resources[function].Properties["Events"].(map[string]any)
	ev, _ := evs[event].(map[string]any)
	props, _ := ev["Properties"].(map[string]any)
	if ev["Type"] != "DynamoDB" {
		t.Fatalf("%s has no DynamoDB event %s", function, event)
	}
	crit, _ := props["FilterCriteria"].(map[string]any)
	list, _ := crit["Filters"].([]any)
	var filters []streams.Filter
	for _, f := range list {
		m, _ := f.(map[string]any)
		flt, err := streams.ParseFilter(asString(m["Pattern"]))
		if err != nil {
			t.Fatal(err)
		}
		filters = append(filters, flt)
	}
	if len(filters) == 0 {
		t.Fatalf("%s %s has no filter: every refresh would invoke it", function, event)
	}
	batch, _ := props["BatchSize"].(int)
	return filters, batch
}

// checkSchema holds a delivered event to docs/events.schema.json: its detail-type's required
// fields are there, and no field the schema does not describe.
func checkSchema(t *testing.T, body string) {
	t.Helper()
	b, err := os.ReadFile("../../docs/events.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		OneOf []struct {
			Properties struct {
				DetailType struct{ Const string } `json:"detail-type"`
				Detail     struct {
					Required   []string
					Properties map[string]any
				} `json:"detail"`
			} `json:"properties"`
		} `json:"oneOf"`
	}
	if err := json.Unmarshal(b, &schema); err != nil {
		t.Fatal(err)
	}
	var e struct {
		DetailType string         `json:"detail-type"`
		Detail     map[string]any `json:"detail"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatal(err)
	}
	for _, o := range schema.OneOf {
		if o.Properties.DetailType.Const != e.DetailType {
			continue
		}
		for _, r := range o.Properties.Detail.Required {
			if _, ok := e.Detail[r]; !ok {
				t.Errorf("%s without %s: %s", e.DetailType, r, body)
			}
		}
		for k := range e.Detail {
			if _, ok := o.Properties.Detail.Properties[k]; !ok {
				t.Errorf("%s carries %s, which the schema does not describe", e.DetailType, k)
			}
		}
		return
	}
	t.Errorf("no schema for %q", e.DetailType)
}
