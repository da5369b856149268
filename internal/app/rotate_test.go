package app_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sellerauth/sellerauth/internal/app/rotateapp"
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
	h, err := rotateapp.NewRotate(rt)
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
	out, err := secretsmanager.NewFromConfig(s.aws.Config).GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.secretID)})
	if err != nil {
		t.Fatal(err)
	}
	var stored map[string]string
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &stored); err != nil {
		t.Fatal(err)
	}
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
// stored (it would break every call of this app), and a message that is not a notification is
// reported for redelivery, and so for the dead-letter queue, without failing its batch-mates.
func TestRotationRefusesOtherClientsAndMalformedMessages(t *testing.T) {
	s := newStack(t)
	h, err := rotateapp.NewRotate(s.runtime(s.aws.Config))
	if err != nil {
		t.Fatal(err)
	}
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
	out, err := secretsmanager.NewFromConfig(s.aws.Config).GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.secretID)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.SecretString) != secretJSON(clientID, clientSecret) {
		t.Error("another client's secret was stored")
	}
}

// TestRotationNeverGoesBack: SQS does not keep order, and a dead letter may be redriven long
// after: a notification whose secret is older than the stored one changes nothing, and neither
// does the same notification ID coming back with another value.
func TestRotationNeverGoesBack(t *testing.T) {
	s := newStack(t)
	h, err := rotateapp.NewRotate(s.runtime(s.aws.Config))
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
	out, err := secretsmanager.NewFromConfig(s.aws.Config).GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.secretID)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(aws.ToString(out.SecretString), newer) {
		t.Error("an older client secret replaced the newer one")
	}
}
