package rotation_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sellerauth/sellerauth/internal/lwa"
	"github.com/sellerauth/sellerauth/internal/rotation"
)

const (
	clientID  = "amzn1.application-oa2-client.0123456789abcdef"
	oldSecret = "amzn1.oa2-cs.v1.old"
	newSecret = "amzn1.oa2-cs.v1.new-from-amazon"
)

// memSecrets is the secret in memory; fail makes every call fail as Secrets Manager would.
type memSecrets struct {
	creds   lwa.Credentials
	expires time.Time
	tokens  []string
	fail    error
}

func (m *memSecrets) Current(context.Context) (lwa.Credentials, error) { return m.creds, m.fail }

func (m *memSecrets) ReplaceSecret(_ context.Context, secret string, expires time.Time, token string) (bool, error) {
	if m.fail != nil {
		return false, m.fail
	}
	if expires.IsZero() {
		return false, errors.New("ReplaceSecret without an expiry")
	}
	if !m.expires.Before(expires) {
		return false, nil
	}
	m.creds.ClientSecret, m.expires = secret, expires
	m.tokens = append(m.tokens, token)
	return true, nil
}

// lwaCheck answers a grantless request as LWA would: invalid_client for any secret but good.
type lwaCheck struct{ good string }

func (l lwaCheck) Grantless(_ context.Context, c lwa.Credentials, _ string) (lwa.Token, error) {
	if c.ClientSecret != l.good {
		return lwa.Token{}, &lwa.Error{HTTPStatus: 401, Code: lwa.CodeInvalidClient}
	}
	return lwa.Token{AccessToken: "Atc|x"}, nil
}

func newSecretBody(client, secret string) string {
	return newSecretExpiring(client, secret, "2027-05-24T12:00:00.000Z")
}

func newSecretExpiring(client, secret, expires string) string {
	return `{"notificationVersion":"1.0","notificationType":"APPLICATION_OAUTH_CLIENT_NEW_SECRET","payloadVersion":"2023-11-30",` +
		`"payload":{"applicationOAuthClientNewSecret":{"clientId":"` + client + `","newClientSecret":"` + secret + `",` +
		`"newClientSecretExpiryTime":"` + expires + `","oldClientSecretExpiryTime":"2026-12-02T12:00:00Z"}},` +
		`"notificationMetadata":{"applicationId":"amzn1.sp.solution.x","notificationId":"b0805eb9-78f7-49bb-ac0e-2e6f1d3c4b5a"}}`
}

func TestHandle(t *testing.T) {
	storageDown := errors.New("secrets manager unavailable")
	tests := []struct {
		name    string
		body    string
		fail    error
		want    rotation.Outcome
		wantErr error
		stored  string
	}{
		{"new secret", newSecretBody(clientID, newSecret), nil, rotation.Stored, nil, newSecret},
		{"new secret, expiry in an unexpected layout", newSecretExpiring(clientID, newSecret, "2027-05-24 12:00:00 +0000"), nil, "", rotation.ErrNoExpiry, oldSecret},
		{"new secret without expiry", newSecretExpiring(clientID, newSecret, ""), nil, "", rotation.ErrMalformed, oldSecret},
		{"another client, without expiry", newSecretExpiring("amzn1.application-oa2-client.other", newSecret, ""), nil, rotation.OtherClient, nil, oldSecret},
		{"older than the stored secret (delivered late)", newSecretExpiring(clientID, newSecret, "2026-06-01T00:00:00Z"), nil, rotation.Unchanged, nil, oldSecret},
		{"refused by LWA (forged or expired)", newSecretBody(clientID, "amzn1.oa2-cs.v1.forged"), nil, "", rotation.ErrSecretRefused, oldSecret},
		{"already stored", newSecretBody(clientID, oldSecret), nil, rotation.Unchanged, nil, oldSecret},
		{"another client", newSecretBody("amzn1.application-oa2-client.other", newSecret), nil, rotation.OtherClient, nil, oldSecret},
		{"secrets manager down", newSecretBody(clientID, newSecret), storageDown, "", storageDown, oldSecret},
		{"no payload", `{"notificationType":"APPLICATION_OAUTH_CLIENT_NEW_SECRET","payload":{}}`, nil, "", rotation.ErrMalformed, oldSecret},
		{"not JSON, holding a secret", "client_secret=" + newSecret, nil, "", rotation.ErrMalformed, oldSecret},
		{"expiry warning", `{"notificationType":"APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY","payload":{"applicationOAuthClientSecretExpiry":{"clientId":"` + clientID + `","clientSecretExpiryTime":"2026-12-02T12:00:00Z","clientSecretExpiryReason":"PERIODIC_ROTATION"}}}`, nil, rotation.ExpiryWarned, nil, oldSecret},
		{"expiry warning for another client", `{"notificationType":"APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY","payload":{"applicationOAuthClientSecretExpiry":{"clientId":"amzn1.application-oa2-client.other","clientSecretExpiryTime":"2026-12-02T12:00:00Z"}}}`, nil, rotation.OtherClient, nil, oldSecret},
		{"another notification type", `{"notificationType":"ANY_OFFER_CHANGED","payload":{}}`, nil, rotation.Ignored, nil, oldSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The stored secret expires in 2026-12; every notification above but one brings a later one.
			secrets := &memSecrets{creds: lwa.Credentials{ClientID: clientID, ClientSecret: oldSecret}, expires: time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC), fail: tt.fail}
			var logs, metrics bytes.Buffer
			h := &rotation.Handler{Secrets: secrets, Verify: lwaCheck{good: newSecret}, Log: slog.New(slog.NewJSONHandler(&logs, nil)), Metrics: &metrics}
			got, err := h.Handle(t.Context(), tt.body)
			if got != tt.want || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Handle = %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
			if secrets.creds.ClientSecret != tt.stored {
				t.Errorf("stored secret changed to the wrong value (want the %s one)", map[bool]string{true: "new", false: "old"}[tt.stored == newSecret])
			}
			for metric, outcome := range map[string]rotation.Outcome{
				rotation.MetricExpiryWarning: rotation.ExpiryWarned,
				rotation.MetricOtherClient:   rotation.OtherClient,
				rotation.MetricStored:        rotation.Stored,
			} {
				if n := strings.Count(metrics.String(), `"`+metric+`":1`); n != map[bool]int{true: 1}[got == outcome] {
					t.Errorf("%d %s metrics for outcome %q: %s", n, metric, got, metrics.String())
				}
			}
			if got == rotation.Stored && (len(secrets.tokens) != 1 || len(secrets.tokens[0]) < 32) {
				t.Errorf("request tokens %v: want the notification ID, so a redelivery stores nothing new", secrets.tokens)
			}
			for _, out := range []string{logs.String(), metrics.String(), errString(err)} {
				if strings.Contains(out, newSecret) {
					t.Errorf("the new client secret reached a log line, metric or error: %s", out)
				}
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
