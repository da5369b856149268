package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// NewSecretNotificationType is the SP-API notification that delivers a new LWA client secret.
const NewSecretNotificationType = "APPLICATION_OAUTH_CLIENT_NEW_SECRET"

const (
	// newSecretLifetime is how long a client secret lives at Amazon (it must be rotated every 180 days).
	newSecretLifetime = 180 * 24 * time.Hour
	// oldSecretOverlap is how long Amazon keeps the previous secret working after a rotation.
	oldSecretOverlap = 7 * 24 * time.Hour
	// notificationTime is how Amazon writes times in notifications: 2026-11-25T12:00:00.000Z.
	notificationTime = "2006-01-02T15:04:05.000Z07:00"
)

// SecretRotation is the admin page's view of the client secret: never its value.
type SecretRotation struct {
	// Live is the number of secrets the token endpoint accepts: 2 between a rotation and
	// RetireOldSecret, else 1.
	Live int
	// At is when the secret was last rotated (zero: never); NotificationID is the ID of the
	// notification that carried it, and NotifyError why it was not delivered, if it was not.
	At             time.Time
	NotificationID string
	NotifyError    string
	// Notifies says Options.Notify is set: without it a rotated secret reaches nobody.
	Notifies bool
}

// RotateClientSecret is the app's developer rotating the LWA client secret (the Solution Provider
// Portal's Rotate, or the Application Management API's rotateApplicationClientSecret): Amazon
// issues a new secret, keeps the previous one working until RetireOldSecret (about 7 days at
// Amazon), and delivers the new one only as an APPLICATION_OAUTH_CLIENT_NEW_SECRET notification,
// here to Options.Notify. It returns the notification's ID; an error means the notification was
// not delivered (the secret is rotated all the same, as at Amazon).
func (s *Sandbox) RotateClientSecret(ctx context.Context) (string, error) {
	secret := "amzn1.oa2-cs.v1." + randomHex(32)
	now := s.now().UTC()
	id := newUUID()
	body, err := json.Marshal(newSecretNotification{
		NotificationVersion: "1.0",
		NotificationType:    NewSecretNotificationType,
		PayloadVersion:      "2023-11-30",
		EventTime:           now.Format(notificationTime),
		Payload: newSecretPayload{NewSecret: newSecret{
			ClientID:                  s.clientID,
			NewClientSecret:           secret,
			NewClientSecretExpiryTime: now.Add(newSecretLifetime).Format(notificationTime),
			OldClientSecretExpiryTime: now.Add(oldSecretOverlap).Format(notificationTime),
		}},
		Metadata: notificationMetadata{
			ApplicationID:  s.app.ApplicationID,
			SubscriptionID: s.subscriptionID,
			PublishTime:    now.Format(notificationTime),
			NotificationID: id,
		},
	})
	if err != nil {
		return "", err
	}
	s.RotateSecret(secret)
	if s.notify == nil {
		err = errors.New("no notification destination (sandbox.Options.Notify): the app does not learn the new secret")
	} else if err = s.notify(ctx, body); err != nil {
		err = fmt.Errorf("notification %s not delivered: %w", id, err)
	}
	s.mu.Lock()
	s.rotation = SecretRotation{At: now, NotificationID: id}
	if err != nil {
		s.rotation.NotifyError = err.Error()
	}
	s.mu.Unlock()
	return id, err
}

// SecretRotation returns the state of the client secret, without its value.
func (s *Sandbox) SecretRotation() SecretRotation {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rotation
	r.Live = len(s.secrets)
	r.Notifies = s.notify != nil
	return r
}

// newSecretNotification is the SQS message body of APPLICATION_OAUTH_CLIENT_NEW_SECRET, in the
// order and shape Amazon sends it.
type newSecretNotification struct {
	NotificationVersion string               `json:"notificationVersion"`
	NotificationType    string               `json:"notificationType"`
	PayloadVersion      string               `json:"payloadVersion"`
	EventTime           string               `json:"eventTime"`
	Payload             newSecretPayload     `json:"payload"`
	Metadata            notificationMetadata `json:"notificationMetadata"`
}

type newSecretPayload struct {
	NewSecret newSecret `json:"applicationOAuthClientNewSecret"`
}

type newSecret struct {
	ClientID                  string `json:"clientId"`
	NewClientSecret           string `json:"newClientSecret"`
	NewClientSecretExpiryTime string `json:"newClientSecretExpiryTime"`
	OldClientSecretExpiryTime string `json:"oldClientSecretExpiryTime"`
}

type notificationMetadata struct {
	ApplicationID  string `json:"applicationId"`
	SubscriptionID string `json:"subscriptionId"`
	PublishTime    string `json:"publishTime"`
	NotificationID string `json:"notificationId"`
}

// newUUID returns a random (version 4) UUID, the form of Amazon's notification and subscription IDs.
func newUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
