package devstack

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sellerauth/sellerauth/internal/samtemplate"
)

// localQueue is a queue created in the local AWS.
type localQueue struct {
	samtemplate.Queue
	name, url, arn string
}

// createQueues creates template.yaml's queues, dead-letter queues first, with the template's
// attributes and redrive policies.
func (s *Stack) createQueues(ctx context.Context, tpl *samtemplate.Template, suffix string) error {
	specs, err := tpl.Queues()
	if err != nil {
		return err
	}
	client := sqs.NewFromConfig(s.AWS)
	s.queues = map[string]*localQueue{}
	for _, spec := range specs {
		q := &localQueue{Queue: spec, name: "sellerauth-dev-" + spec.LogicalID + "-" + suffix}
		attrs := maps.Clone(spec.Attributes)
		if strings.EqualFold(attrs["FifoQueue"], "true") {
			q.name += ".fifo"
		}
		if spec.DeadLetterQueue != "" {
			rp, _ := json.Marshal(map[string]any{
				"deadLetterTargetArn": s.queues[spec.DeadLetterQueue].arn,
				"maxReceiveCount":     spec.MaxReceiveCount,
			})
			attrs["RedrivePolicy"] = string(rp)
		}
		out, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(q.name), Attributes: attrs})
		if err != nil {
			return fmt.Errorf("create queue %s (%s): %w", q.name, spec.LogicalID, err)
		}
		q.url = aws.ToString(out.QueueUrl)
		a, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl: out.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
		})
		if err != nil {
			return fmt.Errorf("queue %s: %w", q.name, err)
		}
		q.arn = a.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
		s.queues[spec.LogicalID] = q
		if spec.AmazonNotifications {
			s.notifications.Store(&notificationTarget{client: client, queue: q})
		}
	}
	return nil
}

// notificationTarget is where the sandbox's SP-API notifications go: the queue Amazon may send to.
type notificationTarget struct {
	client *sqs.Client
	queue  *localQueue
}

// sendNotification is the sandbox's Notify: Amazon sending an SP-API notification to the queue
// registered for it, here the template's queue that Amazon's notification account may write to.
func (s *Stack) sendNotification(ctx context.Context, body []byte) error {
	t := s.notifications.Load()
	if t == nil {
		return fmt.Errorf("no queue of template.yaml lets Amazon's notification account %s send (an AWS::SQS::QueuePolicy), or the stack is still starting", samtemplate.AmazonNotificationsAccount)
	}
	out, err := t.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(t.queue.url), MessageBody: aws.String(string(body))})
	if err != nil {
		return fmt.Errorf("send to %s: %w", t.queue.LogicalID, err)
	}
	// The type and the ID only: the body may carry a secret.
	var n struct {
		Type     string `json:"notificationType"`
		Metadata struct {
			ID string `json:"notificationId"`
		} `json:"notificationMetadata"`
	}
	_ = json.Unmarshal(body, &n)
	s.logs.Line("sandbox", fmt.Sprintf("sent %s notification_id=%s to %s (message %s)", n.Type, n.Metadata.ID, t.queue.LogicalID, aws.ToString(out.MessageId)))
	return nil
}

// sqsRecord is one record of the SQS event Lambda sends, field for field.
type sqsRecord struct {
	MessageID              string                         `json:"messageId"`
	ReceiptHandle          string                         `json:"receiptHandle"`
	Body                   string                         `json:"body"`
	Attributes             map[string]string              `json:"attributes"`
	MessageAttributes      map[string]sqsMessageAttribute `json:"messageAttributes"`
	MD5OfMessageAttributes string                         `json:"md5OfMessageAttributes,omitempty"`
	MD5OfBody              string                         `json:"md5OfBody"`
	EventSource            string                         `json:"eventSource"`
	EventSourceARN         string                         `json:"eventSourceARN"`
	AWSRegion              string                         `json:"awsRegion"`
}

type sqsMessageAttribute struct {
	StringValue      *string  `json:"stringValue,omitempty"`
	BinaryValue      *string  `json:"binaryValue,omitempty"`
	StringListValues []string `json:"stringListValues"`
	BinaryListValues []string `json:"binaryListValues"`
	DataType         string   `json:"dataType"`
}

// SQSEvent is the event Lambda's SQS event source mapping sends for messages of the queue arn.
func SQSEvent(arn string, msgs []sqstypes.Message) []byte {
	records := make([]sqsRecord, 0, len(msgs))
	for _, m := range msgs {
		r := sqsRecord{
			MessageID: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body),
			Attributes: map[string]string{}, MessageAttributes: map[string]sqsMessageAttribute{},
			MD5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes), MD5OfBody: aws.ToString(m.MD5OfBody),
			EventSource: "aws:sqs", EventSourceARN: arn, AWSRegion: Region,
		}
		for k, v := range m.Attributes {
			r.Attributes[k] = v
		}
		for k, v := range m.MessageAttributes {
			a := sqsMessageAttribute{StringValue: v.StringValue, DataType: aws.ToString(v.DataType),
				StringListValues: append([]string{}, v.StringListValues...), BinaryListValues: []string{}}
			if v.BinaryValue != nil {
				a.BinaryValue = aws.String(base64.StdEncoding.EncodeToString(v.BinaryValue))
			}
			for _, b := range v.BinaryListValues {
				a.BinaryListValues = append(a.BinaryListValues, base64.StdEncoding.EncodeToString(b))
			}
			r.MessageAttributes[k] = a
		}
		records = append(records, r)
	}
	b, _ := json.Marshal(map[string]any{"Records": records})
	return b
}

// startPollers is Lambda's SQS event source mapping for every SQS event of the functions: a
// short-polling loop per event until ctx ends (Close).
func (s *Stack) startPollers(ctx context.Context, fns []*lambdaFunc) error {
	type poller struct {
		lf *lambdaFunc
		ev samtemplate.QueueEvent
		q  *localQueue
	}
	var ps []poller
	for _, lf := range fns {
		for _, ev := range lf.Queues {
			q, ok := s.queues[ev.Queue]
			if !ok {
				return fmt.Errorf("%s: event %s reads %s, which is not an AWS::SQS::Queue of template.yaml", lf.LogicalID, ev.Name, ev.Queue)
			}
			ps = append(ps, poller{lf, ev, q})
		}
	}
	if len(ps) == 0 {
		return nil
	}
	client := sqs.NewFromConfig(s.AWS)
	for _, p := range ps {
		s.logs.Printf("%s: event %s polls %s (batch size %d)", p.lf.LogicalID, p.ev.Name, p.q.name, p.ev.BatchSize)
		s.polling.Add(1)
		go func() {
			defer s.polling.Done()
			s.poll(ctx, client, p.lf, p.ev, p.q)
		}()
	}
	return nil
}

// pollWait is ReceiveMessage's wait: a message that arrives meanwhile is answered at once, and
// Close cancels the wait, so it only sets how often an idle queue is asked (each ask is a line
// of moto's request log). Lambda's own pollers wait 20 s.
const pollWait = 5

// poll receives batches of up to BatchSize messages (at most 10, ReceiveMessage's limit) with a
// short wait, invokes the function with each and deletes the messages it handled.
func (s *Stack) poll(ctx context.Context, client *sqs.Client, lf *lambdaFunc, ev samtemplate.QueueEvent, q *localQueue) {
	batch := int32(min(max(ev.BatchSize, 1), 10))
	var lastErr string
	for ctx.Err() == nil {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(q.url),
			MaxNumberOfMessages:         batch,
			WaitTimeSeconds:             pollWait,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if err.Error() != lastErr { // once per kind of failure, not every second
				s.logs.Line("sqs", fmt.Sprintf("%s: receive from %s: %v", lf.name, q.LogicalID, err))
				lastErr = err.Error()
			}
			sleep(ctx, time.Second)
			continue
		}
		lastErr = ""
		if len(out.Messages) > 0 {
			s.deliver(ctx, client, lf, ev, q, out.Messages)
		}
	}
}

// deliver invokes the function with one batch and deletes what it handled: the whole batch on
// success, all but the answer's batchItemFailures with ReportBatchItemFailures, nothing when
// the function failed. Messages not deleted come back after the queue's visibility timeout.
func (s *Stack) deliver(ctx context.Context, client *sqs.Client, lf *lambdaFunc, ev samtemplate.QueueEvent, q *localQueue, msgs []sqstypes.Message) {
	log := func(format string, args ...any) { s.logs.Line("sqs", fmt.Sprintf(format, args...)) }
	started := time.Now()
	body, err := lf.invoke(ctx, SQSEvent(q.arn, msgs))
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		log("%s: %d message(s) of %s failed as a batch; they come back after the visibility timeout: %v", lf.name, len(msgs), q.LogicalID, err)
		return
	}
	failed, err := batchItemFailures(body, msgs, ev.ReportBatchItemFailures)
	if err != nil {
		log("%s: %d message(s) of %s failed as a batch; they come back after the visibility timeout: %v", lf.name, len(msgs), q.LogicalID, err)
		return
	}
	var entries []sqstypes.DeleteMessageBatchRequestEntry
	for i, m := range msgs {
		if !failed[aws.ToString(m.MessageId)] {
			entries = append(entries, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
		}
	}
	if len(entries) > 0 {
		out, err := client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(q.url), Entries: entries})
		switch {
		case err != nil:
			log("%s: delete %d message(s) from %s: %v", lf.name, len(entries), q.LogicalID, err)
		case len(out.Failed) > 0:
			log("%s: %d message(s) not deleted from %s: %s", lf.name, len(out.Failed), q.LogicalID, aws.ToString(out.Failed[0].Message))
		}
	}
	msg := fmt.Sprintf("%s: %d message(s) of %s -> %d handled", lf.name, len(msgs), q.LogicalID, len(entries))
	if len(failed) > 0 {
		msg += fmt.Sprintf(", %d batch item failure(s) back after the visibility timeout", len(failed))
	}
	log("%s (%s)", msg, time.Since(started).Round(time.Millisecond))
}

// batchItemFailures reads the function's answer as Lambda does: with ReportBatchItemFailures the
// listed message IDs failed; an empty or null answer or list is a success; an answer that is not
// JSON, or names a message not in the batch (or none), fails the whole batch. Without
// ReportBatchItemFailures nothing is read from the answer.
func batchItemFailures(answer []byte, msgs []sqstypes.Message, report bool) (map[string]bool, error) {
	failed := map[string]bool{}
	if !report || len(answer) == 0 || string(answer) == "null" {
		return failed, nil
	}
	var resp struct {
		BatchItemFailures []struct {
			ItemIdentifier *string `json:"itemIdentifier"`
		} `json:"batchItemFailures"`
	}
	if err := json.Unmarshal(answer, &resp); err != nil {
		return nil, errors.New("the answer is not a batch response")
	}
	inBatch := map[string]bool{}
	for _, m := range msgs {
		inBatch[aws.ToString(m.MessageId)] = true
	}
	for _, f := range resp.BatchItemFailures {
		id := aws.ToString(f.ItemIdentifier)
		if id == "" || !inBatch[id] {
			return nil, fmt.Errorf("batchItemFailures names %q, not a message of the batch", id)
		}
		failed[id] = true
	}
	return failed, nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
