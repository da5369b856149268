package sandbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sellerauth/sellerauth/internal/rotation"
	"github.com/sellerauth/sellerauth/internal/sandbox"
)

// notifications records what the sandbox sends to Options.Notify.
type notifications struct {
	mu     sync.Mutex
	bodies [][]byte
	err    error
}

func (n *notifications) notify(_ context.Context, body []byte) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.bodies = append(n.bodies, body)
	return n.err
}

func (n *notifications) all() [][]byte {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.bodies)
}

// admin posts an admin-page action and returns the admin page it redirects to.
func (e *env) admin(t *testing.T, action string) string {
	t.Helper()
	base := strings.TrimSuffix(e.url, sandbox.TokenPath)
	if action != "" {
		resp, err := noRedirect.PostForm(base+sandbox.AdminPath+"/"+action, url.Values{})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != sandbox.AdminPath {
			t.Fatalf("POST %s -> %d %s, want 303 to the admin page", action, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	status, body, _ := get(t, base+sandbox.AdminPath)
	if status != http.StatusOK {
		t.Fatalf("admin page: HTTP %d", status)
	}
	return body
}

func keys(m map[string]json.RawMessage) []string {
	var k []string
	for name := range m {
		k = append(k, name)
	}
	slices.Sort(k)
	return k
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// newSecretOf checks that body is an APPLICATION_OAUTH_CLIENT_NEW_SECRET as Amazon shapes it
// (the fields and nothing else, times with milliseconds in UTC) and returns its secret and ID.
func newSecretOf(t *testing.T, e *env, body []byte) (secret, notificationID string) {
	t.Helper()
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		t.Fatalf("notification is not JSON: %v", err)
	}
	if got, want := keys(top), []string{"eventTime", "notificationMetadata", "notificationType", "notificationVersion", "payload", "payloadVersion"}; !slices.Equal(got, want) {
		t.Errorf("notification fields %v, want %v", got, want)
	}
	var shape struct {
		Payload  map[string]map[string]json.RawMessage `json:"payload"`
		Metadata map[string]json.RawMessage            `json:"notificationMetadata"`
	}
	if err := json.Unmarshal(body, &shape); err != nil {
		t.Fatal(err)
	}
	p, ok := shape.Payload["applicationOAuthClientNewSecret"]
	if !ok || len(shape.Payload) != 1 {
		t.Fatalf("payload has %d entries, want applicationOAuthClientNewSecret only", len(shape.Payload))
	}
	if got, want := keys(p), []string{"clientId", "newClientSecret", "newClientSecretExpiryTime", "oldClientSecretExpiryTime"}; !slices.Equal(got, want) {
		t.Errorf("payload fields %v, want %v", got, want)
	}
	if got, want := keys(shape.Metadata), []string{"applicationId", "notificationId", "publishTime", "subscriptionId"}; !slices.Equal(got, want) {
		t.Errorf("notificationMetadata fields %v, want %v", got, want)
	}

	var raw struct {
		Version, PayloadVersion, EventTime string
		Payload                            struct {
			S struct{ NewClientSecretExpiryTime, OldClientSecretExpiryTime string } `json:"applicationOAuthClientNewSecret"`
		}
		Metadata struct{ SubscriptionID, PublishTime string } `json:"notificationMetadata"`
	}
	_ = json.Unmarshal(body, &raw)
	now := e.clock.Now().UTC()
	const amazonTime = "2006-01-02T15:04:05.000Z"
	for name, tc := range map[string]struct{ got, want string }{
		"eventTime":                 {raw.EventTime, now.Format(amazonTime)},
		"publishTime":               {raw.Metadata.PublishTime, now.Format(amazonTime)},
		"newClientSecretExpiryTime": {raw.Payload.S.NewClientSecretExpiryTime, now.Add(180 * 24 * time.Hour).Format(amazonTime)},
		"oldClientSecretExpiryTime": {raw.Payload.S.OldClientSecretExpiryTime, now.Add(7 * 24 * time.Hour).Format(amazonTime)},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %q, want %q", name, tc.got, tc.want)
		}
	}
	if !uuidPattern.MatchString(raw.Metadata.SubscriptionID) {
		t.Errorf("subscriptionId %q is not a UUID", raw.Metadata.SubscriptionID)
	}

	// The rotate-secret function's own reading of it.
	var n rotation.Notification
	if err := json.Unmarshal(body, &n); err != nil {
		t.Fatal(err)
	}
	if n.NotificationType != rotation.TypeNewSecret || n.Payload.NewSecret == nil {
		t.Fatalf("notification type %q, payload %v", n.NotificationType, n.Payload.NewSecret != nil)
	}
	s := n.Payload.NewSecret
	if s.ClientID != clientID || n.Metadata.ApplicationID != testAppID {
		t.Errorf("clientId %q, applicationId %q; want %q, %q", s.ClientID, n.Metadata.ApplicationID, clientID, testAppID)
	}
	if !strings.HasPrefix(s.NewClientSecret, "amzn1.oa2-cs.v1.") || s.NewClientSecret == clientSecret {
		t.Errorf("newClientSecret is not a fresh LWA client secret (prefix %.16q)", s.NewClientSecret)
	}
	if !uuidPattern.MatchString(n.Metadata.NotificationID) {
		t.Errorf("notificationId %q is not a UUID", n.Metadata.NotificationID)
	}
	return s.NewClientSecret, n.Metadata.NotificationID
}

func TestAdminRotatesTheSecretAndNotifies(t *testing.T) {
	var sent notifications
	e := newEnv(t, sandbox.Options{Notify: sent.notify, App: sandbox.App{Name: "Test app", ApplicationID: testAppID}})
	tokens := e.post(t, codeForm(e.sb.IssueCode(sellerID)))
	refreshWith := func(secret string) answer {
		form := refreshForm(tokens.RefreshToken)
		form.Set("client_secret", secret)
		return e.post(t, form)
	}

	page := e.admin(t, "")
	if !strings.Contains(page, `id="rotate-secret"`) || strings.Contains(page, `id="retire-old-secret"`) || !strings.Contains(page, "One client secret") {
		t.Fatalf("admin page before a rotation:\n%s", page)
	}

	page = e.admin(t, "rotate-secret")
	bodies := sent.all()
	if len(bodies) != 1 {
		t.Fatalf("%d notifications sent, want 1", len(bodies))
	}
	first, firstID := newSecretOf(t, e, bodies[0])
	for _, secret := range []string{clientSecret, first} {
		if a := refreshWith(secret); a.Status != http.StatusOK {
			t.Errorf("during the overlap, a secret gets HTTP %d %s", a.Status, a.Error)
		}
	}
	if !strings.Contains(page, "Two client secrets") || !strings.Contains(page, `id="retire-old-secret"`) || !strings.Contains(page, firstID) {
		t.Errorf("admin page after the rotation lacks the overlap, Retire or the notification ID:\n%s", page)
	}
	if strings.Contains(page, first) || strings.Contains(page, clientSecret) {
		t.Fatal("the admin page shows a client secret")
	}

	// A second rotation: a new secret and a fresh notification ID; the original secret is gone.
	e.clock.Advance(time.Hour)
	page = e.admin(t, "rotate-secret")
	bodies = sent.all()
	if len(bodies) != 2 {
		t.Fatalf("%d notifications sent, want 2", len(bodies))
	}
	second, secondID := newSecretOf(t, e, bodies[1])
	if second == first || secondID == firstID {
		t.Fatalf("the second rotation repeats the secret (%v) or the notification ID (%v)", second == first, secondID == firstID)
	}
	wantError(t, refreshWith(clientSecret), http.StatusUnauthorized, "invalid_client")
	if strings.Contains(page, second) || strings.Contains(page, first) {
		t.Fatal("the admin page shows a client secret")
	}

	page = e.admin(t, "retire-old-secret")
	wantError(t, refreshWith(first), http.StatusUnauthorized, "invalid_client")
	if a := refreshWith(second); a.Status != http.StatusOK {
		t.Errorf("new secret after retirement: HTTP %d %s", a.Status, a.Error)
	}
	if !strings.Contains(page, "One client secret") || strings.Contains(page, `id="retire-old-secret"`) || strings.Contains(page, second) {
		t.Errorf("admin page after Retire:\n%s", page)
	}
	if r := e.sb.SecretRotation(); r.Live != 1 || r.NotificationID != secondID || r.NotifyError != "" || !r.Notifies {
		t.Errorf("SecretRotation() = %+v", r)
	}
}

func TestRotationWithoutDelivery(t *testing.T) {
	t.Run("Notify fails", func(t *testing.T) {
		sent := notifications{err: errors.New("queue unreachable")}
		e := newEnv(t, sandbox.Options{Notify: sent.notify, App: sandbox.App{ApplicationID: testAppID}})
		page := e.admin(t, "rotate-secret")
		if !strings.Contains(page, `id="notify-error"`) || !strings.Contains(page, "queue unreachable") {
			t.Errorf("admin page does not show the delivery error:\n%s", page)
		}
		// The secret is rotated all the same, as at Amazon; the old one keeps working meanwhile.
		if r := e.sb.SecretRotation(); r.Live != 2 || r.NotifyError == "" {
			t.Errorf("SecretRotation() = %+v", r)
		}
		first, _ := newSecretOf(t, e, sent.all()[0])
		if strings.Contains(page, first) {
			t.Fatal("the admin page shows a client secret")
		}
		if a := e.post(t, refreshForm(e.post(t, codeForm(e.sb.IssueCode(sellerID))).RefreshToken)); a.Status != http.StatusOK {
			t.Errorf("old secret during the overlap: HTTP %d %s", a.Status, a.Error)
		}
	})
	t.Run("no Notify", func(t *testing.T) {
		e := newEnv(t, sandbox.Options{})
		id, err := e.sb.RotateClientSecret(t.Context())
		if err == nil || !uuidPattern.MatchString(id) {
			t.Fatalf("RotateClientSecret without Notify = %q, %v; want an ID and an error", id, err)
		}
		if page := e.admin(t, ""); !strings.Contains(page, "no notification destination") {
			t.Errorf("admin page does not say the secret reached nobody:\n%s", page)
		}
	})
}
