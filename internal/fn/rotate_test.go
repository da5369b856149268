package fn_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/sellerauth/sellerauth/internal/awstest"
	rotatesecretfn "github.com/sellerauth/sellerauth/internal/fn/rotatesecret"
)

// sqsEvent loads testdata/sqs-new-secret.json (a new-secret and an expiry notification, shaped as
// Amazon's rotation guide shows them, in a real SQS event) with this app's client ID and newSecret.
func sqsEvent(t *testing.T, clientID, newSecret string) events.SQSEvent {
	t.Helper()
	b, err := os.ReadFile("testdata/sqs-new-secret.json")
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.ReplaceAll(b, []byte("CLIENT_ID"), []byte(clientID))
	b = bytes.ReplaceAll(b, []byte("NEW_CLIENT_SECRET"), []byte(newSecret))
	var ev events.SQSEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

// TestRotationNotificationKeepsCallbacksWorking: Amazon rotates the client secret and retires the
// old one; the rotate-secret function stores the new one from the notification, and the next
// callback works without an operator.
func TestRotationNotificationKeepsCallbacksWorking(t *testing.T) {
	s := newStack(t)
	// The operator keeps a note in the secret: the rotation must leave it.
	s.aws.PutSecret(t, s.secretID, `{"client_id":"`+clientID+`","client_secret":"`+clientSecret+`","note":"rotated by sellerauth"}`)
	state, _ := s.startWebsite("")
	if res := s.callbackWith(state, s.consent(), stateCookie(state)); res.StatusCode != http.StatusOK {
		t.Fatalf("warm-up: %d", res.StatusCode)
	}

	const newSecret = "amzn1.oa2-cs.v1.rotated-by-notification-0123456789"
	remember(newSecret)
	s.amazon.RotateSecret(newSecret)
	s.amazon.RetireOldSecret()

	var logBuf, metrics bytes.Buffer
	rt := s.runtime(s.aws.Config)
	rt.Log = slog.New(slog.NewJSONHandler(io.MultiWriter(&logBuf, logs), nil))
	h, err := rotatesecretfn.New(rt)
	if err != nil {
		t.Fatal(err)
	}
	h.Rotation.Metrics = &metrics
	ev := sqsEvent(t, clientID, newSecret)
	for range 2 { // SQS delivers at least once: the second delivery changes nothing
		res, err := h.Handle(t.Context(), ev)
		if err != nil || len(res.BatchItemFailures) != 0 {
			t.Fatalf("handle: %+v, %v", res, err)
		}
	}
	stored, _ := currentSecret(t, s.aws, s.secretID)
	if stored["client_secret"] != newSecret || stored["client_id"] != clientID || stored["note"] != "rotated by sellerauth" {
		t.Errorf("secret after rotation: new secret %v, client_id kept %v, other fields kept %v",
			stored["client_secret"] == newSecret, stored["client_id"] == clientID, stored["note"] != "")
	}
	if n := strings.Count(metrics.String(), `"ClientSecretStored":1`); n != 1 {
		t.Errorf("%d ClientSecretStored metrics for one rotation delivered twice", n)
	}
	if n := strings.Count(metrics.String(), `"ClientSecretExpiryWarning":1`); n != 2 {
		t.Errorf("%d ClientSecretExpiryWarning metrics for two expiry warnings", n)
	}
	if strings.Contains(logBuf.String(), newSecret) || strings.Contains(metrics.String(), newSecret) {
		t.Error("the new client secret reached the log")
	}

	// The callback still holds the retired secret; LWA refuses it once, the refetch finds the new one.
	state, _ = s.startWebsite("")
	if res := s.callbackWith(state, s.consent(), stateCookie(state)); res.StatusCode != http.StatusOK {
		t.Fatalf("callback after rotation: %d %s", res.StatusCode, res.Body)
	}
}

// TestRotationRefusesOtherClientsAndMalformedMessages: a new secret for another LWA client is not
// stored (it would break every call of this app) and counts, with the other client's expiry
// warning, in the metric of OtherClientNotificationsAlarm; and a message that is not a notification is
// reported for redelivery, and so for the dead-letter queue, without failing its batch-mates.
func TestRotationRefusesOtherClientsAndMalformedMessages(t *testing.T) {
	s := newStack(t)
	h, err := rotatesecretfn.New(s.runtime(s.aws.Config))
	if err != nil {
		t.Fatal(err)
	}
	var metrics bytes.Buffer
	h.Rotation.Metrics = &metrics
	ev := sqsEvent(t, "amzn1.application-oa2-client.another-app", "amzn1.oa2-cs.v1.another-apps-secret")
	ev.Records = append(ev.Records, events.SQSMessage{MessageId: "broken", Body: `{"notificationType":"APPLICATION_OAUTH_CLIENT_NEW_SECRET","payload":{}}`})
	ev.Records = append(ev.Records, events.SQSMessage{MessageId: "not-json", Body: `Atza|not a notification`})
	res, err := h.Handle(t.Context(), ev)
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, f := range res.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	if strings.Join(failed, ",") != "broken,not-json" {
		t.Errorf("batch item failures %v, want the two malformed messages only", failed)
	}
	// OtherClientNotificationsAlarm: the new secret and the expiry warning of the other client.
	if n := strings.Count(metrics.String(), `"OtherClientNotifications":1`); n != 2 || strings.Contains(metrics.String(), "ClientSecretExpiryWarning") {
		t.Errorf("%d OtherClientNotifications metrics for two notifications of another client; metrics %s", n, metrics.String())
	}
	if stored, _ := currentSecret(t, s.aws, s.secretID); stored["client_secret"] != clientSecret || len(stored) != 2 {
		t.Error("another client's secret was stored")
	}
}

// TestRotationNeverGoesBack: SQS does not keep order, and a dead letter may be redriven long
// after: a notification whose secret is older than the stored one changes nothing, and neither
// does the same notification ID coming back with another value.
func TestRotationNeverGoesBack(t *testing.T) {
	s := newStack(t)
	h, err := rotatesecretfn.New(s.runtime(s.aws.Config))
	if err != nil {
		t.Fatal(err)
	}
	const newer, older = "amzn1.oa2-cs.v1.newer-secret-0123456789", "amzn1.oa2-cs.v1.older-secret-0123456789"
	remember(newer, older)
	s.amazon.RotateSecret(older)
	s.amazon.RotateSecret(newer) // both still accepted by LWA, as during Amazon's overlap
	ev := sqsEvent(t, clientID, newer)
	ev.Records = ev.Records[:1]
	if res, err := h.Handle(t.Context(), ev); err != nil || len(res.BatchItemFailures) != 0 {
		t.Fatalf("newer: %+v, %v", res, err)
	}
	late := sqsEvent(t, clientID, older)
	late.Records = late.Records[:1]
	late.Records[0].MessageId = "late"
	late.Records[0].Body = strings.Replace(late.Records[0].Body, "2027-05-24T12:00:00.000Z", "2027-05-20T12:00:00.000Z", 1)
	late.Records[0].Body = strings.Replace(late.Records[0].Body, "b0805eb9-78f7-49bb-ac0e-2e6f1d3c4b5a", "c1916fca-89a8-4acc-bd1f-3f7e2e4d5c6b", 1)
	replayed := sqsEvent(t, clientID, older) // same notification ID as the newer one, another secret
	replayed.Records = replayed.Records[:1]
	for name, e := range map[string]events.SQSEvent{"older secret delivered late": late, "notification ID reused": replayed} {
		if res, err := h.Handle(t.Context(), e); err != nil || len(res.BatchItemFailures) != 0 {
			t.Errorf("%s: %+v, %v (want handled, nothing stored)", name, res, err)
		}
	}
	if stored, _ := currentSecret(t, s.aws, s.secretID); stored["client_secret"] != newer {
		t.Error("an older client secret replaced the newer one")
	}
}

// currentSecret reads the secret's AWSCURRENT version and checks that exactly one version holds
// the label.
func currentSecret(t *testing.T, env *awstest.Env, secretID string) (map[string]string, string) {
	t.Helper()
	sm := env.SecretsManager
	out, err := sm.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretID), VersionStage: aws.String("AWSCURRENT")})
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]string
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &fields); err != nil {
		t.Fatal(err)
	}
	versions, err := sm.ListSecretVersionIds(context.Background(), &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String(secretID)})
	if err != nil {
		t.Fatal(err)
	}
	var current []string
	for _, v := range versions.Versions {
		if slices.Contains(v.VersionStages, "AWSCURRENT") {
			current = append(current, aws.ToString(v.VersionId))
		}
	}
	if len(current) != 1 || current[0] != aws.ToString(out.VersionId) {
		t.Errorf("versions labelled AWSCURRENT: %v, read %s", current, aws.ToString(out.VersionId))
	}
	return fields, aws.ToString(out.VersionId)
}

// race makes two rotate-secret functions write the secret at the same time: neither puts its
// version before both have read the secret (so both pass the expiry check), and, if first is set,
// the other one's first swap waits until first's has been answered.
type race struct {
	first        string
	mu           sync.Mutex
	arrived      int
	bothRead     chan struct{}
	firstSwapped chan struct{}
	swaps        map[string]int
	t            *testing.T
}

func newRace(t *testing.T, first string) *race {
	return &race{t: t, first: first, bothRead: make(chan struct{}), firstSwapped: make(chan struct{}), swaps: map[string]int{}}
}

func (r *race) wait(ch chan struct{}, what string) {
	select {
	case <-ch:
	case <-time.After(20 * time.Second): // a guard against a hang, not a measurement
		r.t.Errorf("gave up waiting: %s", what)
	}
}

// config is cfg for the function named name, whose Secrets Manager calls take part in the race.
func (r *race) config(cfg aws.Config, name string) aws.Config {
	cfg = cfg.Copy()
	var put, swap sync.Once
	cfg.APIOptions = append(slices.Clip(cfg.APIOptions), func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("race."+name, func(
			ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler,
		) (middleware.InitializeOutput, middleware.Metadata, error) {
			switch awsmiddleware.GetOperationName(ctx) {
			case "PutSecretValue":
				put.Do(func() {
					r.mu.Lock()
					if r.arrived++; r.arrived == 2 {
						close(r.bothRead)
					}
					r.mu.Unlock()
					r.wait(r.bothRead, name+": the other function's read")
				})
			case "UpdateSecretVersionStage":
				r.mu.Lock()
				r.swaps[name]++
				r.mu.Unlock()
				if r.first == "" {
					break
				}
				var (
					out  middleware.InitializeOutput
					md   middleware.Metadata
					err  error
					made bool
				)
				swap.Do(func() {
					if name != r.first {
						r.wait(r.firstSwapped, name+": the first swap")
						return
					}
					out, md, err = next.HandleInitialize(ctx, in)
					made = true
					close(r.firstSwapped)
				})
				if made {
					return out, md, err
				}
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
	})
	return cfg
}

// TestRotationNeverGoesBackConcurrently: two new-secret notifications, an older and a newer
// secret, are handled at the same time by two rotate-secret functions (the event source mapping
// runs two batches at once), many times over: both read the secret before either writes, so both
// pass the expiry check, and whichever swaps first, the newer secret is the current one at the end.
// The compare-and-swap (UpdateSecretVersionStage from the version read) is what holds it.
func TestRotationNeverGoesBackConcurrently(t *testing.T) {
	s := newStack(t)
	const newer, older = "amzn1.oa2-cs.v1.newer-secret-concurrent-01234", "amzn1.oa2-cs.v1.older-secret-concurrent-01234"
	remember(newer, older)
	s.amazon.RotateSecret(older)
	s.amazon.RotateSecret(newer)
	notification := func(secret, expires string, i int) events.SQSEvent {
		ev := sqsEvent(t, clientID, secret)
		ev.Records = ev.Records[:1]
		ev.Records[0].Body = strings.Replace(ev.Records[0].Body, "2027-05-24T12:00:00.000Z", expires, 1)
		id := fmt.Sprintf("%08x-0000-4000-8000-%012x", i, len(expires)+len(secret))
		ev.Records[0].Body = strings.Replace(ev.Records[0].Body, "b0805eb9-78f7-49bb-ac0e-2e6f1d3c4b5a", id+map[string]string{newer: "0", older: "1"}[secret], 1)
		return ev
	}
	orders := []string{"older", "newer", ""} // who swaps first; "": no order, both at once
	const rounds = 30
	outcomes := map[string]int{}
	for i := range rounds {
		first := orders[i%len(orders)]
		// A fresh secret each round, holding the secret Amazon is about to retire.
		secretID := s.aws.CreateSecret(t, `{"client_id":"`+clientID+`","client_secret":"`+clientSecret+`","client_secret_expires_at":"2026-12-02T12:00:00Z"}`)
		s.env["LWA_CREDENTIALS_SECRET_ID"] = secretID
		r := newRace(t, first)
		var metrics [2]lockedBuffer
		var handlers [2]*rotatesecretfn.Handler
		for j, name := range []string{"newer", "older"} {
			h, err := rotatesecretfn.New(s.runtime(r.config(s.aws.Config, name)))
			if err != nil {
				t.Fatal(err)
			}
			h.Rotation.Metrics = &metrics[j]
			handlers[j] = h
		}
		evs := [2]events.SQSEvent{notification(newer, "2027-05-24T12:00:00.000Z", i), notification(older, "2027-05-20T12:00:00.000Z", i)}
		var wg sync.WaitGroup
		for j := range 2 {
			wg.Go(func() {
				res, err := handlers[j].Handle(t.Context(), evs[j])
				if err != nil || len(res.BatchItemFailures) != 0 {
					t.Errorf("round %d (%q first), notification %d: %+v, %v", i, first, j, res, err)
				}
			})
		}
		wg.Wait()
		stored, _ := currentSecret(t, s.aws, secretID)
		if stored["client_secret"] != newer || stored["client_secret_expires_at"] != "2027-05-24T12:00:00Z" {
			t.Fatalf("round %d (%q swaps first): the current secret is the %s one, expiring %s; want the newer",
				i, first, map[bool]string{true: "older", false: "original"}[stored["client_secret"] == older], stored["client_secret_expires_at"])
		}
		newerStored := strings.Contains(metrics[0].String(), `"ClientSecretStored":1`)
		olderStored := strings.Contains(metrics[1].String(), `"ClientSecretStored":1`)
		if !newerStored {
			t.Errorf("round %d (%q first): the newer notification did not count as stored", i, first)
		}
		switch first {
		case "older": // the newer one's swap is refused, it reads again and swaps again
			if r.swaps["newer"] != 2 || r.swaps["older"] != 1 || !olderStored {
				t.Errorf("round %d (older first): swaps %v, older stored %v; want the newer one's first refused", i, r.swaps, olderStored)
			}
		case "newer": // the older one's swap is refused, and it reads the newer secret
			if r.swaps["newer"] != 1 || r.swaps["older"] != 1 || olderStored {
				t.Errorf("round %d (newer first): swaps %v, older stored %v; want the older one refused", i, r.swaps, olderStored)
			}
		}
		outcomes[fmt.Sprintf("%s first: swaps %v", first, r.swaps)]++
	}
	t.Logf("%d rounds: %v", rounds, outcomes)
}

// TestRotationWithoutExpiryEndsInTheDeadLetterQueue: a new secret without a parsable expiry is
// not stored (it could be older than the stored one, and the next notification would have nothing
// to be compared with): the message is reported back each time, and after the queue's
// maxReceiveCount (template.yaml) SQS moves it to the dead-letter queue, which raises
// SecretNotificationsDeadLetterAlarm. moto's SQS plays the queues; the loop plays Lambda's poller.
func TestRotationWithoutExpiryEndsInTheDeadLetterQueue(t *testing.T) {
	s := newStack(t)
	const fresh = "amzn1.oa2-cs.v1.secret-without-expiry-0123456789"
	remember(fresh)
	s.amazon.RotateSecret(fresh)
	h, err := rotatesecretfn.New(s.runtime(s.aws.Config))
	if err != nil {
		t.Fatal(err)
	}

	tpl := loadTemplate(t)
	redrive, _ := tpl.Resources["SecretNotificationsQueue"].Properties["RedrivePolicy"].(map[string]any)
	maxReceives, _ := redrive["maxReceiveCount"].(int)
	if maxReceives < 1 {
		t.Fatalf("SecretNotificationsQueue's RedrivePolicy has no maxReceiveCount: %v", redrive)
	}
	q := sqs.NewFromConfig(s.aws.Config)
	ctx := t.Context()
	dlq := createQueue(t, q, nil)
	dlqArn, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(dlq), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	queue := createQueue(t, q, map[string]string{"RedrivePolicy": fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":%d}`,
		dlqArn.Attributes[string(sqstypes.QueueAttributeNameQueueArn)], maxReceives)})

	bodies := map[string]string{}
	for name, expires := range map[string]string{"missing": "", "unparsable": "2027-05-24 12:00:00 +0000"} {
		ev := sqsEvent(t, clientID, fresh)
		bodies[name] = strings.Replace(ev.Records[0].Body, "2027-05-24T12:00:00.000Z", expires, 1)
		if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queue), MessageBody: aws.String(bodies[name])}); err != nil {
			t.Fatal(err)
		}
	}
	handled := 0
	for range maxReceives + 2 {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queue), MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			break
		}
		var ev events.SQSEvent
		for _, m := range out.Messages {
			ev.Records = append(ev.Records, events.SQSMessage{MessageId: aws.ToString(m.MessageId), Body: aws.ToString(m.Body)})
		}
		handled += len(ev.Records)
		res, _ := h.Handle(ctx, ev) // an error too reports the whole batch back
		if len(res.BatchItemFailures) != len(ev.Records) {
			t.Fatalf("batch item failures %d of %d: a notification without expiry was taken", len(res.BatchItemFailures), len(ev.Records))
		}
		// Nothing succeeded, so nothing is deleted; each message becomes visible again (here at
		// once, standing for the queue's visibility timeout running out).
		for _, m := range out.Messages {
			if _, err := q.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(queue), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if handled != 2*maxReceives {
		t.Errorf("the function was handed the notifications %d times, want %d (maxReceiveCount each)", handled, 2*maxReceives)
	}
	dead, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(dlq), MaxNumberOfMessages: 10})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range dead.Messages {
		for name, b := range bodies {
			if aws.ToString(m.Body) == b {
				got = append(got, name)
			}
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"missing", "unparsable"}) {
		t.Errorf("dead letters %v, want both notifications", got)
	}
	if stored, _ := currentSecret(t, s.aws, s.secretID); stored["client_secret"] != clientSecret {
		t.Error("a secret without expiry was stored")
	}
}

func createQueue(t *testing.T, q *sqs.Client, attrs map[string]string) string {
	t.Helper()
	out, err := q.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String(fmt.Sprintf("rotate-test-%d", time.Now().UnixNano())), Attributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = q.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: out.QueueUrl}) })
	return aws.ToString(out.QueueUrl)
}
