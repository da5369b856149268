package samtemplate

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// AmazonNotificationsAccount is the AWS account SP-API notifications come from (Notifications API
// docs): the queue whose policy lets it send is the one Amazon delivers to.
const AmazonNotificationsAccount = "437568002678"

// Queue is an AWS::SQS::Queue of the template, as a local copy of the system creates it.
type Queue struct {
	LogicalID string
	// Attributes are the CreateQueue attributes of the queue's literal properties
	// (VisibilityTimeout, MessageRetentionPeriod, ...), RedrivePolicy aside.
	Attributes map[string]string
	// DeadLetterQueue is the logical ID of the RedrivePolicy's target ("" for none), after
	// MaxReceiveCount receipts.
	DeadLetterQueue string
	MaxReceiveCount int
	// AmazonNotifications says an AWS::SQS::QueuePolicy of the template lets Amazon's SP-API
	// notification account send to the queue.
	AmazonNotifications bool
}

// queueAttributes are the AWS::SQS::Queue properties that are CreateQueue attributes of the same
// name; the others (QueueName, KmsMasterKeyId, Tags, ...) only matter to a deployed queue.
var queueAttributes = []string{
	"ContentBasedDeduplication", "DelaySeconds", "FifoQueue", "MaximumMessageSize",
	"MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds", "SqsManagedSseEnabled", "VisibilityTimeout",
}

// Queues returns the template's queues, each after its dead-letter queue (the order to create
// them in), otherwise by logical ID.
func (t *Template) Queues() ([]Queue, error) {
	byID := map[string]*Queue{}
	err := t.resourcesOfType("AWS::SQS::Queue", func(id string, props *yaml.Node) error {
		q, err := parseQueue(id, props)
		byID[id] = q
		return err
	})
	if err != nil {
		return nil, err
	}
	_ = t.resourcesOfType("AWS::SQS::QueuePolicy", func(_ string, props *yaml.Node) error {
		qs := value(props, "Queues")
		if qs == nil || !allowsAmazonNotifications(value(props, "PolicyDocument")) {
			return nil
		}
		for _, n := range qs.Content {
			if q := byID[logicalIDOf(n)]; q != nil {
				q.AmazonNotifications = true
			}
		}
		return nil
	})
	var out []Queue
	done := map[string]bool{}
	var add func(id string, seen []string) error
	add = func(id string, seen []string) error {
		if done[id] {
			return nil
		}
		q, ok := byID[id]
		if !ok {
			return fmt.Errorf("%s: dead-letter queue %s is not an AWS::SQS::Queue of the template", seen[len(seen)-1], id)
		}
		if slices.Contains(seen, id) {
			return fmt.Errorf("%s: dead-letter queues form a cycle", id)
		}
		if q.DeadLetterQueue != "" {
			if err := add(q.DeadLetterQueue, append(seen, id)); err != nil {
				return err
			}
		}
		out = append(out, *q)
		done[id] = true
		return nil
	}
	for _, id := range slices.Sorted(maps.Keys(byID)) {
		if err := add(id, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func parseQueue(id string, props *yaml.Node) (*Queue, error) {
	q := &Queue{LogicalID: id, Attributes: map[string]string{}}
	for _, name := range queueAttributes {
		v := value(props, name)
		if v == nil {
			continue
		}
		if v.Kind != yaml.ScalarNode || intrinsic(v) {
			return nil, fmt.Errorf("%s: %s must be a literal", id, name)
		}
		q.Attributes[name] = v.Value
	}
	if rp := value(props, "RedrivePolicy"); rp != nil {
		q.DeadLetterQueue = logicalIDOf(value(rp, "deadLetterTargetArn"))
		if q.DeadLetterQueue == "" {
			return nil, fmt.Errorf("%s: RedrivePolicy: deadLetterTargetArn must be !GetAtt <queue>.Arn of this template", id)
		}
		if m := value(rp, "maxReceiveCount"); m != nil {
			fmt.Sscan(m.Value, &q.MaxReceiveCount)
		}
	}
	return q, nil
}

// allowsAmazonNotifications says a policy document allows Amazon's notification account to send.
func allowsAmazonNotifications(doc *yaml.Node) bool {
	st := value(doc, "Statement")
	if st == nil {
		return false
	}
	statements := st.Content
	if st.Kind == yaml.MappingNode {
		statements = []*yaml.Node{st}
	}
	for _, s := range statements {
		if e := value(s, "Effect"); e == nil || e.Value != "Allow" {
			continue
		}
		if !scalars(value(s, "Action"), func(v string) bool { return v == "sqs:SendMessage" || v == "sqs:*" }) {
			continue
		}
		if scalars(value(value(s, "Principal"), "AWS"), func(v string) bool { return strings.Contains(v, AmazonNotificationsAccount) }) {
			return true
		}
	}
	return false
}
