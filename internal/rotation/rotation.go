// Package rotation keeps the LWA client secret current without an operator. Amazon makes every
// app rotate its client secret every 180 days and delivers the new one as an SP-API notification
// to an SQS queue the developer registered (APPLICATION_OAUTH_CLIENT_NEW_SECRET), after warning
// about the expiry (APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY). Handler reads those notifications:
// it stores a new secret for this app's client ID in the secret the functions read, ignores
// secrets of other clients (counting them in a metric that raises an alarm), refuses a new secret
// whose expiry it cannot read, and turns an expiry warning into a log line and a metric that
// raise an alarm. The old secret keeps working for about 7 days, so warm functions that still hold it
// pick up the new one on their next cold start or on their first invalid_client.
package rotation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/sellerauth/sellerauth/internal/emf"
	"github.com/sellerauth/sellerauth/internal/lwa"
)

// The notification types Handler acts on.
const (
	TypeNewSecret    = "APPLICATION_OAUTH_CLIENT_NEW_SECRET"
	TypeSecretExpiry = "APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY"
)

// Notification is the SP-API notification envelope as the SQS message body carries it.
type Notification struct {
	NotificationType string `json:"notificationType"`
	Payload          struct {
		NewSecret *NewSecret `json:"applicationOAuthClientNewSecret"`
		Expiry    *Expiry    `json:"applicationOAuthClientSecretExpiry"`
	} `json:"payload"`
	Metadata struct {
		ApplicationID  string `json:"applicationId"`
		NotificationID string `json:"notificationId"`
	} `json:"notificationMetadata"`
}

// NewSecret is the payload of APPLICATION_OAUTH_CLIENT_NEW_SECRET. The times stay strings, so
// that a time in an unexpected layout is reported as such rather than as a message that is not JSON.
type NewSecret struct {
	ClientID                  string `json:"clientId"`
	NewClientSecret           string `json:"newClientSecret"`
	NewClientSecretExpiryTime string `json:"newClientSecretExpiryTime"`
	OldClientSecretExpiryTime string `json:"oldClientSecretExpiryTime"`
}

// Expiry is the payload of APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY.
type Expiry struct {
	ClientID                 string `json:"clientId"`
	ClientSecretExpiryTime   string `json:"clientSecretExpiryTime"`
	ClientSecretExpiryReason string `json:"clientSecretExpiryReason"`
}

// parseTime reads Amazon's RFC 3339 times; anything else is the zero time.
func parseTime(v string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}
	}
	return t
}

// logTime formats a time for a log line ("" when unknown).
func logTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// Secrets is where the LWA client credentials live; *lwasecret.Writer implements it.
type Secrets interface {
	// Current reads the stored credentials as they are now.
	Current(ctx context.Context) (lwa.Credentials, error)
	// ReplaceSecret stores a new client secret that expires at expiresAt (never zero). It
	// stores nothing and returns false when the stored secret expires no earlier (an older
	// notification delivered late, or handled at the same time as a newer one) or when
	// requestToken was already used.
	ReplaceSecret(ctx context.Context, secret string, expiresAt time.Time, requestToken string) (bool, error)
}

// Verifier asks LWA for a grantless token with given credentials; *lwa.Client implements it.
type Verifier interface {
	Grantless(ctx context.Context, creds lwa.Credentials, scope string) (lwa.Token, error)
}

// VerifyScope is the grantless scope the new secret is checked with.
const VerifyScope = "sellingpartnerapi::notifications"

// The metrics Handler writes (namespace emf.Namespace), each a count of notifications.
const (
	// MetricStored counts new secrets stored.
	MetricStored = "ClientSecretStored"
	// MetricExpiryWarning counts expiry warnings for this app's client: ClientSecretExpiryAlarm.
	MetricExpiryWarning = "ClientSecretExpiryWarning"
	// MetricOtherClient counts new-secret and expiry notifications for another LWA client than
	// the stored one: the queue is registered for another app too, or the secret holds another
	// app's client. OtherClientNotificationsAlarm.
	MetricOtherClient = "OtherClientNotifications"
)

// Outcome says what Handle did with one notification.
type Outcome string

const (
	// Stored: the new secret is in the secret now.
	Stored Outcome = "stored"
	// Unchanged: the secret already held it (a message delivered again).
	Unchanged Outcome = "unchanged"
	// OtherClient: the notification is about another LWA client; nothing was stored.
	OtherClient Outcome = "other_client"
	// ExpiryWarned: an expiry warning was logged and counted.
	ExpiryWarned Outcome = "expiry_warned"
	// Ignored: a notification type this handler does not act on.
	Ignored Outcome = "ignored"
)

// ErrMalformed means the message is not a notification this handler can read; retrying will not
// help, and the message ends in the dead-letter queue for a person to look at.
var ErrMalformed = errors.New("malformed secret-rotation notification")

// ErrNoExpiry means a new-secret notification for this app's client has no expiry time in
// Amazon's layout: a secret of unknown age could replace a newer one, so it is not stored, and
// the message ends in the dead-letter queue for a person to look at. It wraps ErrMalformed.
var ErrNoExpiry = fmt.Errorf("%w: %s without a parsable newClientSecretExpiryTime; not stored", ErrMalformed, TypeNewSecret)

// ErrSecretRefused means LWA refused the notification's secret (a forged message, or one so old
// that its secret has expired): it is not stored, and the message ends in the dead-letter queue.
var ErrSecretRefused = errors.New("LWA refused the notification's client secret; not stored")

// Handler acts on secret-rotation notifications.
type Handler struct {
	Secrets Secrets
	// Verify, if set, checks a new secret with LWA before it is stored, so that no message can
	// store a secret LWA does not accept.
	Verify Verifier
	// Log defaults to slog.Default().
	Log *slog.Logger
	// Metrics receives one CloudWatch Embedded Metric Format line per notification acted on;
	// nil writes none.
	Metrics io.Writer
	// Now defaults to time.Now.
	Now func() time.Time
}

func (h *Handler) log() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.Default()
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// Handle acts on one SQS message body. An error means the message should be delivered again
// (a Secrets Manager failure) or, wrapping ErrMalformed, looked at by a person.
func (h *Handler) Handle(ctx context.Context, body string) (Outcome, error) {
	var n Notification
	if err := json.Unmarshal([]byte(body), &n); err != nil {
		// The decoder's message may quote the body, which may hold a secret: leave it out.
		return "", fmt.Errorf("%w: not JSON", ErrMalformed)
	}
	switch n.NotificationType {
	case TypeNewSecret:
		return h.newSecret(ctx, n)
	case TypeSecretExpiry:
		return h.expiry(ctx, n)
	default:
		h.log().InfoContext(ctx, "notification type not handled here; ignored", "notification_type", n.NotificationType)
		return Ignored, nil
	}
}

func (h *Handler) newSecret(ctx context.Context, n Notification) (Outcome, error) {
	p := n.Payload.NewSecret
	if p == nil || p.ClientID == "" || p.NewClientSecret == "" {
		return "", fmt.Errorf("%w: %s without clientId or newClientSecret", ErrMalformed, TypeNewSecret)
	}
	current, err := h.Secrets.Current(ctx)
	if err != nil {
		return "", fmt.Errorf("read the stored credentials: %w", err)
	}
	log := h.log().With("notification_id", n.Metadata.NotificationID, "client_id", p.ClientID)
	switch {
	case current.ClientID != p.ClientID:
		// Another app's secret (a queue shared between apps, or a secret holding another
		// client): storing it would break every call of this app.
		log.ErrorContext(ctx, "new client secret for another LWA client than the stored one; not stored")
		h.metric(MetricOtherClient)
		return OtherClient, nil
	case current.ClientSecret == p.NewClientSecret:
		log.InfoContext(ctx, "new client secret already stored")
		return Unchanged, nil
	}
	expires := parseTime(p.NewClientSecretExpiryTime)
	if expires.IsZero() {
		// Without it the secret could replace a newer one, and the next notification would have
		// nothing to be compared with.
		log.ErrorContext(ctx, "new client secret without a parsable expiry time; not stored",
			"new_secret_expires_present", p.NewClientSecretExpiryTime != "")
		return "", ErrNoExpiry
	}
	if h.Verify != nil {
		_, err := h.Verify.Grantless(ctx, lwa.Credentials{ClientID: p.ClientID, ClientSecret: p.NewClientSecret}, VerifyScope)
		switch {
		case lwa.IsInvalidClient(err):
			log.ErrorContext(ctx, "LWA refuses the client secret of this notification; not stored")
			return "", ErrSecretRefused
		case err != nil:
			return "", fmt.Errorf("check the new client secret with LWA: %w", err)
		}
	}
	stored, err := h.Secrets.ReplaceSecret(ctx, p.NewClientSecret, expires, n.Metadata.NotificationID)
	if err != nil {
		return "", err
	}
	if !stored {
		log.InfoContext(ctx, "the stored client secret is as new or newer; this one is not stored")
		return Unchanged, nil
	}
	log.WarnContext(ctx, "stored the new LWA client secret; the old one stops working at its expiry",
		"old_secret_expires", logTime(parseTime(p.OldClientSecretExpiryTime)),
		"new_secret_expires", logTime(expires))
	h.metric(MetricStored)
	return Stored, nil
}

func (h *Handler) expiry(ctx context.Context, n Notification) (Outcome, error) {
	p := n.Payload.Expiry
	if p == nil || p.ClientID == "" {
		return "", fmt.Errorf("%w: %s without clientId", ErrMalformed, TypeSecretExpiry)
	}
	current, err := h.Secrets.Current(ctx)
	if err != nil {
		return "", fmt.Errorf("read the stored credentials: %w", err)
	}
	log := h.log().With("notification_id", n.Metadata.NotificationID, "client_id", p.ClientID)
	if current.ClientID != p.ClientID {
		log.WarnContext(ctx, "client secret expiry warning for another LWA client than the stored one; ignored")
		h.metric(MetricOtherClient)
		return OtherClient, nil
	}
	expires := parseTime(p.ClientSecretExpiryTime)
	days := ""
	if !expires.IsZero() {
		days = strconv.Itoa(int(expires.Sub(h.now()).Hours() / 24))
	}
	log.WarnContext(ctx, "the LWA client secret expires soon: rotate it (docs/rotation.md)",
		"expires", logTime(expires), "days_left", days, "reason", p.ClientSecretExpiryReason)
	h.metric(MetricExpiryWarning)
	return ExpiryWarned, nil
}

// metric writes one count in Embedded Metric Format.
func (h *Handler) metric(name string) {
	if h.Metrics != nil {
		_ = emf.Write(h.Metrics, h.now(), emf.Metric{Name: name, Unit: "Count", Value: 1})
	}
}
