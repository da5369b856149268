package samtemplate

import (
	"strings"
	"testing"
)

func TestQueuesOfTheRepositoryTemplate(t *testing.T) {
	qs, err := repositoryTemplate(t).Queues()
	if err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	byID := map[string]Queue{}
	for i, q := range qs {
		pos[q.LogicalID], byID[q.LogicalID] = i, q
	}
	n, ok := byID["SecretNotificationsQueue"]
	if !ok {
		t.Fatalf("no SecretNotificationsQueue among %v", qs)
	}
	if n.DeadLetterQueue != "SecretNotificationsDeadLetterQueue" || n.MaxReceiveCount != 5 || n.Attributes["VisibilityTimeout"] != "180" || !n.AmazonNotifications {
		t.Errorf("SecretNotificationsQueue = %+v", n)
	}
	if pos[n.DeadLetterQueue] > pos[n.LogicalID] {
		t.Errorf("the dead-letter queue comes after its source: %v", qs)
	}
	for id, q := range byID {
		if q.AmazonNotifications && id != "SecretNotificationsQueue" {
			t.Errorf("%s accepts Amazon's notifications too", id)
		}
	}
}

func TestQueuesRefuse(t *testing.T) {
	for _, tc := range []struct{ name, resources, wantErr string }{
		{"intrinsic attribute", `
  Q: {Type: AWS::SQS::Queue, Properties: {VisibilityTimeout: !Ref Timeout}}`, "VisibilityTimeout must be a literal"},
		{"dead-letter queue outside the template", `
  Q: {Type: AWS::SQS::Queue, Properties: {RedrivePolicy: {deadLetterTargetArn: !GetAtt Elsewhere.Arn, maxReceiveCount: 3}}}`,
			"dead-letter queue Elsewhere is not an AWS::SQS::Queue"},
		{"dead-letter queue by ARN", `
  Q: {Type: AWS::SQS::Queue, Properties: {RedrivePolicy: {deadLetterTargetArn: "arn:aws:sqs:us-east-1:1:x"}}}`,
			"deadLetterTargetArn must be !GetAtt"},
		{"cycle", `
  A: {Type: AWS::SQS::Queue, Properties: {RedrivePolicy: {deadLetterTargetArn: !GetAtt B.Arn}}}
  B: {Type: AWS::SQS::Queue, Properties: {RedrivePolicy: {deadLetterTargetArn: !GetAtt A.Arn}}}`, "form a cycle"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := Parse([]byte("Resources:" + tc.resources + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tpl.Queues(); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}
