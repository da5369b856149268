package devstack

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sellerauth/sellerauth/events"
	"github.com/sellerauth/sellerauth/internal/samtemplate"
)

// recentEventsKept is how many lifecycle events the stack keeps for the status page and the
// demo app.
const recentEventsKept = 50

// eventsWait is ReceiveMessage's wait on the events queue: an event that arrives meanwhile is
// answered at once, so it only sets how often an idle queue is asked.
const eventsWait = 5

// eventLog is the most recent lifecycle events, newest first.
type eventLog struct {
	mu     sync.Mutex
	events []events.Event
	seen   map[string]bool // event IDs, for EventBridge's at-least-once delivery
}

func (l *eventLog) add(e events.Event) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen = map[string]bool{}
	}
	if e.ID != "" && l.seen[e.ID] {
		return false
	}
	l.seen[e.ID] = true
	l.events = append([]events.Event{e}, l.events...)
	for len(l.events) > recentEventsKept {
		delete(l.seen, l.events[len(l.events)-1].ID)
		l.events = l.events[:len(l.events)-1]
	}
	return true
}

func (l *eventLog) list() []events.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

// Events returns the lifecycle events (source sellerauth) the events function put on the local
// EventBridge bus and its rule delivered to the stack's queue, newest first: the last 50. An
// event carries no token.
func (s *Stack) Events() []events.Event { return s.events.list() }

// eventBus is what the local EventBridge holds for the stack: the events function's bus, a rule
// for source sellerauth on it, and the SQS queue the rule sends to.
type eventBus struct {
	bus, rule string
	queueURL  string
}

// eventBusOf returns the bus the functions put events on: their EVENT_BUS_NAME (the template's
// parameter EventBusName), or "" when no function has one.
func eventBusOf(fns []samtemplate.Function) (string, error) {
	bus := ""
	for _, f := range fns {
		b, ok := f.Env["EVENT_BUS_NAME"]
		if !ok {
			continue
		}
		if b == "" {
			b = "default"
		}
		if bus != "" && b != bus {
			return "", fmt.Errorf("the functions put events on two buses, %s and %s", bus, b)
		}
		bus = b
	}
	return bus, nil
}

// createEventBus makes the local EventBridge deliver the functions' events to the stack: the bus
// (unless it is the account's default bus, which always exists), a rule matching source
// sellerauth, and an SQS queue as its target, as an app consuming the events would set them up.
func (s *Stack) createEventBus(ctx context.Context, bus, suffix string) (*eventBus, error) {
	eb := eventbridge.NewFromConfig(s.AWS)
	name := bus
	if i := strings.LastIndex(bus, ":event-bus/"); strings.HasPrefix(bus, "arn:") && i >= 0 {
		name = bus[i+len(":event-bus/"):]
	}
	if name != "default" {
		if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(name)}); err != nil &&
			!strings.Contains(err.Error(), "ResourceAlreadyExists") {
			return nil, fmt.Errorf("create event bus %s: %w", name, err)
		}
	}
	q := sqs.NewFromConfig(s.AWS)
	queue := "sellerauth-dev-events-" + suffix
	out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(queue)})
	if err != nil {
		return nil, fmt.Errorf("create queue %s: %w", queue, err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return nil, fmt.Errorf("queue %s: %w", queue, err)
	}
	pattern, _ := json.Marshal(map[string]any{"source": []string{events.Source}})
	rule := "sellerauth-dev-events-" + suffix
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(rule), EventBusName: aws.String(name),
		EventPattern: aws.String(string(pattern)), Description: aws.String("make dev: every sellerauth event to the dev stack's queue")}); err != nil {
		return nil, fmt.Errorf("put rule %s on bus %s: %w", rule, name, err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(rule), EventBusName: aws.String(name),
		Targets: []ebtypes.Target{{Id: aws.String("devstack"), Arn: aws.String(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)])}}}); err != nil {
		return nil, fmt.Errorf("put target of rule %s: %w", rule, err)
	}
	s.logs.Printf("EventBridge: rule %s on bus %s sends source %q to queue %s, which the stack reads (status page, demo app)", rule, name, events.Source, queue)
	return &eventBus{bus: name, rule: rule, queueURL: aws.ToString(out.QueueUrl)}, nil
}

// readEvents receives the rule's queue until ctx ends, keeping each event in s.events.
func (s *Stack) readEvents(ctx context.Context, b *eventBus) {
	client := sqs.NewFromConfig(s.AWS)
	log := func(format string, args ...any) { s.logs.Line("eventbus", fmt.Sprintf(format, args...)) }
	var lastErr string
	for ctx.Err() == nil {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(b.queueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: eventsWait,
		})
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if err.Error() != lastErr {
				log("receive: %v", err)
				lastErr = err.Error()
			}
			sleep(ctx, time.Second)
			continue
		}
		lastErr = ""
		for _, m := range out.Messages {
			var e events.Event
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &e); err != nil {
				log("a message of the events queue is no event: %v", err)
			} else if s.events.add(e) {
				log("%s", describeEvent(e))
			}
			if _, err := client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(b.queueURL), ReceiptHandle: m.ReceiptHandle}); err != nil && ctx.Err() == nil {
				log("delete: %v", err)
			}
		}
	}
}

// describeEvent is an event's log line: its detail-type and who it is about, never a token
// (an event has none).
func describeEvent(e events.Event) string {
	d := e.Detail
	var b strings.Builder
	fmt.Fprintf(&b, "%s: selling_partner_id=%s region=%s", e.DetailType, d.SellingPartnerID, d.Region)
	if d.EndUserID != "" {
		fmt.Fprintf(&b, " end_user_id=%s", d.EndUserID)
	}
	if d.OwnerEndUserID != "" {
		fmt.Fprintf(&b, " owner_end_user_id=%s", d.OwnerEndUserID)
	}
	fmt.Fprintf(&b, " status=%s version=%d", d.Status, d.Version)
	if d.Reason != "" {
		fmt.Fprintf(&b, " reason=%s", d.Reason)
	}
	if d.DaysLeft != 0 {
		fmt.Fprintf(&b, " days_left=%d", d.DaysLeft)
	}
	return b.String()
}
