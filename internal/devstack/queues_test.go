package devstack

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// TestSQSEventShape: the event has every field Lambda's SQS event source sends, in its names,
// and aws-lambda-go reads it.
func TestSQSEventShape(t *testing.T) {
	const arn = "arn:aws:sqs:us-east-1:123456789012:q"
	ev := SQSEvent(arn, []sqstypes.Message{{
		MessageId: aws.String("m1"), ReceiptHandle: aws.String("r1"), Body: aws.String(`{"a":1}`), MD5OfBody: aws.String("md5"),
		Attributes: map[string]string{"ApproximateReceiveCount": "1", "SentTimestamp": "1", "SenderId": "s", "ApproximateFirstReceiveTimestamp": "2"},
	}, {
		MessageId: aws.String("m2"), ReceiptHandle: aws.String("r2"), Body: aws.String("x"), MD5OfBody: aws.String("md5"),
		MD5OfMessageAttributes: aws.String("md5a"),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{
			"s": {DataType: aws.String("String"), StringValue: aws.String("v")},
			"b": {DataType: aws.String("Binary"), BinaryValue: []byte("1100")},
		},
	}})
	var raw struct {
		Records []map[string]json.RawMessage
	}
	if err := json.Unmarshal(ev, &raw); err != nil || len(raw.Records) != 2 {
		t.Fatalf("event %s: %v", ev, err)
	}
	want := []string{"attributes", "awsRegion", "body", "eventSource", "eventSourceARN", "md5OfBody", "messageAttributes", "messageId", "receiptHandle"}
	if got := keys(raw.Records[0]); !slices.Equal(got, want) {
		t.Errorf("record fields %v, want %v", got, want)
	}
	if got := keys(raw.Records[1]); !slices.Equal(got, append(slices.Clone(want[:6]), "md5OfMessageAttributes", "messageAttributes", "messageId", "receiptHandle")) {
		t.Errorf("record with message attributes: fields %v", got)
	}
	if string(raw.Records[0]["messageAttributes"]) != "{}" {
		t.Errorf("messageAttributes without any = %s, want {}", raw.Records[0]["messageAttributes"])
	}
	var attrs map[string]map[string]json.RawMessage
	_ = json.Unmarshal(raw.Records[1]["messageAttributes"], &attrs)
	if s := attrs["s"]; string(s["stringValue"]) != `"v"` || string(s["stringListValues"]) != "[]" || string(s["binaryListValues"]) != "[]" || string(s["dataType"]) != `"String"` {
		t.Errorf("string attribute %s", raw.Records[1]["messageAttributes"])
	}
	if b := attrs["b"]; string(b["binaryValue"]) != `"MTEwMA=="` {
		t.Errorf("binary attribute %s", raw.Records[1]["messageAttributes"])
	}

	var sqsEvent events.SQSEvent
	if err := json.Unmarshal(ev, &sqsEvent); err != nil {
		t.Fatal(err)
	}
	r := sqsEvent.Records[0]
	if r.MessageId != "m1" || r.ReceiptHandle != "r1" || r.Body != `{"a":1}` || r.EventSource != "aws:sqs" || r.EventSourceARN != arn ||
		r.AWSRegion != Region || r.Md5OfBody != "md5" || r.Attributes["ApproximateReceiveCount"] != "1" {
		t.Errorf("aws-lambda-go reads %+v", r)
	}
}

func keys(m map[string]json.RawMessage) []string {
	var k []string
	for name := range m {
		k = append(k, name)
	}
	slices.Sort(k)
	return k
}

func TestBatchItemFailures(t *testing.T) {
	msgs := []sqstypes.Message{{MessageId: aws.String("a")}, {MessageId: aws.String("b")}}
	for _, tc := range []struct {
		name, answer string
		report       bool
		failed       []string
		batchFails   bool
	}{
		{"success", `{"batchItemFailures":[]}`, true, nil, false},
		{"null answer", `null`, true, nil, false},
		{"empty object", `{}`, true, nil, false},
		{"one failure", `{"batchItemFailures":[{"itemIdentifier":"b"}]}`, true, []string{"b"}, false},
		{"unknown message", `{"batchItemFailures":[{"itemIdentifier":"c"}]}`, true, nil, true},
		{"empty identifier", `{"batchItemFailures":[{"itemIdentifier":""}]}`, true, nil, true},
		{"bad key name", `{"batchItemFailures":[{"id":"a"}]}`, true, nil, true},
		{"not JSON", `ok`, true, nil, true},
		{"without ReportBatchItemFailures", `{"batchItemFailures":[{"itemIdentifier":"b"}]}`, false, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			failed, err := batchItemFailures([]byte(tc.answer), msgs, tc.report)
			if (err != nil) != tc.batchFails {
				t.Fatalf("error %v, want the batch failed %v", err, tc.batchFails)
			}
			var got []string
			for id := range failed {
				got = append(got, id)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.failed) {
				t.Errorf("failed %v, want %v", got, tc.failed)
			}
		})
	}
}
