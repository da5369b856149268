package devstack_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/sellerauth/sellerauth/internal/devstack"
)

const chromiumPath = "/usr/bin/chromium"

type testLogs struct{ t *testing.T } // the stack's lines to t.Log (make e2e filters this file:line out)

func (w testLogs) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestEndToEnd drives headless Chromium through two stacks started as make dev starts them, side
// by side: one with anonymous authorizations (anonymousFlow) and one as in production, where every
// authorization starts from a connect session of the demo app (sessionFlow, e2e_sessions_test.go).
// Screenshots go to each subtest's t.ArtifactDir() as PNG (go test -artifacts keeps them; make e2e
// puts them under .build/e2e) and, with E2E_SCREENSHOTS=dir, to dir as well.
func TestEndToEnd(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("%s not found: install it with \"apt-get update && apt-get install -y chromium\" (.ci/tools does)", chromiumPath)
	}
	// One build (make build-<Function>, as make dev runs it) for both stacks.
	buildDir := filepath.Join(t.TempDir(), "build")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := devstack.Build(ctx, devstack.Config{BuildDir: buildDir, Logs: devstack.NewLogs(testLogs{t})}); err != nil {
		t.Fatal(err)
	}
	t.Run("anonymous", func(t *testing.T) {
		t.Parallel()
		anonymousFlow(t, buildDir)
	})
	t.Run("sessions", func(t *testing.T) {
		t.Parallel()
		sessionFlow(t, buildDir)
	})
}

// anonymousFlow is the stack with AnonymousAuthorizations=true (make dev -anonymous): the landing
// page, Authorize (US as a seller, DE as a vendor), the sandbox's consent page, Confirm, the
// log-in URI step, the success page; then the token items, a refresh, a revocation confirmed by
// the refresh rule, a browser without the state cookie refused at the callback, and a client
// secret rotation (the sandbox's notification through the SQS queue to the rotate-secret
// function) after which one more seller authorizes.
func anonymousFlow(t *testing.T, buildDir string) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st, err := devstack.Start(ctx, devstack.Config{
		Logs:      devstack.NewLogs(testLogs{t}),
		BuildDir:  buildDir,
		Prebuilt:  true,
		Anonymous: true,
		// The confirmation rule (3 invalid_grant answers, the first at least this long before
		// the last) with a span the test can wait out.
		ExtraEnv: map[string]string{"INVALID_GRANT_CONFIRM_SECONDS": "2"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	browser := newBrowser(t, ctx)

	shots := newShots(t)
	run := runner(t)

	// US, as a seller, through the log-in URI step.
	run(browser, "landing page", chromedp.Navigate(st.URL+"/"), chromedp.WaitVisible(`a[href="authorize?marketplace=US"]`))
	shots.take(browser, "01-landing")
	run(browser, "authorize US", chromedp.Click(`a[href="authorize?marketplace=US"]`), chromedp.WaitVisible(`#confirm`))
	var cookies []*network.Cookie
	run(browser, "cookies", chromedp.ActionFunc(func(c context.Context) error {
		var err error
		cookies, err = network.GetCookies().WithURLs([]string{st.URL + "/callback"}).Do(c)
		return err
	}))
	if !hasCookie(cookies, "__Host-spapi_oauth_state") {
		t.Fatalf("Chromium did not keep the Secure __Host- state cookie on %s: cookies %v", st.URL, cookieNames(cookies))
	}
	shots.take(browser, "02-consent-seller-central")
	run(browser, "confirm US", chromedp.SetValue(`#selling_partner_id`, "A1E2ESELLERUS"), chromedp.Click(`#confirm`),
		chromedp.WaitVisible(`//h1[contains(., "Authorization complete")]`))
	shots.take(browser, "03-success")
	us := getItem(t, st, "A1E2ESELLERUS", "na")
	if us["status"] != "active" || us["account_type"] != "seller" || !strings.HasPrefix(us["access_token"], "Atza|") || !strings.HasPrefix(us["refresh_token"], "Atzr|") {
		t.Fatalf("US item: status %q, account_type %q, tokens present %v", us["status"], us["account_type"], us["access_token"] != "")
	}

	// DE, as a vendor.
	run(browser, "authorize DE vendor", chromedp.Navigate(st.URL+"/"),
		chromedp.Click(`a[href="authorize?marketplace=DE&account_type=vendor"]`), chromedp.WaitVisible(`#confirm`),
		chromedp.SetValue(`#central`, "vendor"),
		chromedp.Evaluate(`document.getElementById("central").dispatchEvent(new Event("change"))`, nil),
		chromedp.SetValue(`#marketplace`, "DE"),
		chromedp.SetValue(`#selling_partner_id`, "A2E2EVENDORDE"))
	shots.take(browser, "04-consent-vendor-central")
	run(browser, "confirm DE", chromedp.Click(`#confirm`), chromedp.WaitVisible(`//h1[contains(., "Authorization complete")]`))
	de := getItem(t, st, "A2E2EVENDORDE", "eu")
	if de["status"] != "active" || de["account_type"] != "vendor" {
		t.Fatalf("DE item: status %q, account_type %q", de["status"], de["account_type"])
	}

	// A second browser (its own cookie jar) carrying the first one's state: refused at the callback.
	st.Sandbox.SetDirectFlow(true)
	var consentURL string
	run(browser, "authorize for the stolen state", chromedp.Navigate(st.URL+"/"),
		chromedp.Click(`a[href="authorize?marketplace=US"]`), chromedp.WaitVisible(`#confirm`), chromedp.Location(&consentURL))
	other := newBrowser(t, ctx)
	var page string
	run(other, "callback without the cookie", chromedp.Navigate(consentURL), chromedp.WaitVisible(`#confirm`),
		chromedp.SetValue(`#selling_partner_id`, "A3E2EATTACKER"), chromedp.Click(`#confirm`),
		chromedp.WaitVisible(`//h1[not(contains(., "Authorize"))]`), chromedp.Text(`body`, &page))
	shots.take(other, "05-callback-without-cookie")
	if strings.Contains(page, "Authorization complete") || !strings.Contains(page, "another browser") {
		t.Fatal("the callback accepted a state from a browser without its cookie")
	}
	if it := getItemMaybe(t, st, "A3E2EATTACKER", "na"); it != nil {
		t.Fatal("a token item was written for the refused callback")
	}
	st.Sandbox.SetDirectFlow(false)

	// Refresh: the scheduled function, with every refresh made due.
	refreshNow(t, st)
	us2 := getItem(t, st, "A1E2ESELLERUS", "na")
	if us2["access_token"] == us["access_token"] || us2["version"] == us["version"] {
		t.Fatalf("refresh did not replace the access token (version %s -> %s)", us["version"], us2["version"])
	}

	// Revocation in the sandbox's admin page; the refresh rule confirms it only after repeats.
	run(browser, "revoke", chromedp.Navigate(st.SandboxURL+"/sandbox/admin"), chromedp.WaitVisible(`#revoke-A1E2ESELLERUS`),
		chromedp.Click(`#revoke-A1E2ESELLERUS`), chromedp.WaitVisible(`//td[contains(., "revoked")]`))
	shots.take(browser, "06-sandbox-admin-revoked")
	refreshNow(t, st)
	if s := getItem(t, st, "A1E2ESELLERUS", "na")["status"]; s != "active" {
		t.Fatalf("status after one invalid_grant = %q, want active (not yet confirmed)", s)
	}
	refreshNow(t, st)
	time.Sleep(2100 * time.Millisecond) // the confirmation span
	refreshNow(t, st)
	if s := getItem(t, st, "A1E2ESELLERUS", "na")["status"]; s != "reauthorization_required" {
		t.Fatalf("status after three invalid_grant answers over the span = %q, want reauthorization_required", s)
	}
	if s := getItem(t, st, "A2E2EVENDORDE", "eu")["status"]; s != "active" {
		t.Fatalf("the other seller's status = %q, want active", s)
	}
	run(browser, "status page", chromedp.Navigate(st.URL+"/_dev/"), chromedp.WaitVisible(`#sellers`), chromedp.Text(`#sellers`, &page))
	shots.take(browser, "07-dev-status")
	if !strings.Contains(page, "reauthorization_required") || strings.Contains(page, "Atza|") || strings.Contains(page, "Atzr|") {
		t.Fatalf("status page: %s", page)
	}

	// Client secret rotation: Rotate on the sandbox's admin page sends Amazon's
	// APPLICATION_OAUTH_CLIENT_NEW_SECRET to the template's notification queue, whose SQS event
	// invokes the rotate-secret function, which stores the new secret. After Retire only the new
	// secret works: the callback function, warm with the old one, must pick up the new one.
	before := lwaSecret(t, st)
	run(browser, "rotate the client secret", chromedp.Navigate(st.SandboxURL+"/sandbox/admin"), chromedp.WaitVisible(`#rotate-secret`),
		chromedp.Click(`#rotate-secret`), chromedp.WaitVisible(`#notification-sent`), chromedp.Text(`#secret-status`, &page))
	if !strings.Contains(page, "Two client secrets") {
		t.Fatalf("sandbox admin page after Rotate: %s", page)
	}
	run(browser, "scroll to the client secret", chromedp.Evaluate(`document.getElementById("client-secret").scrollIntoView()`, nil))
	shots.take(browser, "08-sandbox-admin-secret-rotated")
	rotated := time.Now()
	after := before
	for after["client_secret"] == before["client_secret"] {
		if time.Since(rotated) > time.Minute {
			t.Fatal("the LWA secret still holds the old client secret a minute after the rotation: the notification did not reach the rotate-secret function, or it did not store the secret")
		}
		time.Sleep(100 * time.Millisecond)
		after = lwaSecret(t, st)
	}
	if after["client_id"] != before["client_id"] || !strings.HasPrefix(after["client_secret"], "amzn1.oa2-cs.v1.") {
		t.Fatalf("after the rotation the LWA secret holds client_id %q and a client_secret of %d characters", after["client_id"], len(after["client_secret"]))
	}
	t.Logf("the rotate-secret function stored the new client secret %s after the rotation", time.Since(rotated).Round(time.Millisecond))
	run(browser, "retire the old secret", chromedp.Click(`#retire-old-secret`),
		chromedp.WaitVisible(`//p[@id="secret-status"][contains(., "One client secret")]`))
	invalidClient := st.Sandbox.Stats().Errors["invalid_client"]
	run(browser, "authorize after the rotation", chromedp.Navigate(st.URL+"/"),
		chromedp.Click(`a[href="authorize?marketplace=US"]`), chromedp.WaitVisible(`#confirm`),
		chromedp.SetValue(`#selling_partner_id`, "A4E2EROTATED"), chromedp.Click(`#confirm`),
		chromedp.WaitVisible(`//h1[contains(., "Authorization complete")]`))
	if it := getItem(t, st, "A4E2EROTATED", "na"); it["status"] != "active" || !strings.HasPrefix(it["refresh_token"], "Atzr|") {
		t.Fatalf("item after the rotation: status %q, refresh token present %v", it["status"], it["refresh_token"] != "")
	}
	t.Logf("the callback after Retire: %d invalid_client answer(s) before it read the new secret", st.Sandbox.Stats().Errors["invalid_client"]-invalidClient)
}

// lwaSecret reads the current version of the LWA credentials secret from the local AWS, as the
// functions read it: by the AWSCURRENT label, named because moto answers a request without one
// with the version last put as current, not the one UpdateSecretVersionStage made current (the
// rotate-secret function's compare-and-swap). Its values are never logged.
func lwaSecret(t *testing.T, st *devstack.Stack) map[string]string {
	t.Helper()
	out, err := secretsmanager.NewFromConfig(st.AWS).GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{
		SecretId: aws.String(st.LWASecret), VersionStage: aws.String("AWSCURRENT")})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &m); err != nil {
		t.Fatal("the LWA secret is not a JSON object")
	}
	return m
}

// newBrowser starts a headless Chromium of its own (own profile, own cookies), without the
// background traffic that stalls it on a machine without internet.
func newBrowser(t *testing.T, ctx context.Context) context.Context {
	// Not t.TempDir: Chromium's helper processes may still write to the profile for a moment
	// after the browser is gone, and t.TempDir's cleanup fails the test on that.
	profile, err := os.MkdirTemp("", "e2e-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for range 50 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1100, 800),
	)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	// The first Run starts the browser; it must not carry a step's timeout.
	if err := chromedp.Run(browser); err != nil {
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	return browser
}

func refreshNow(t *testing.T, st *devstack.Stack) {
	t.Helper()
	if _, err := st.FastForward(t.Context()); err != nil {
		t.Fatal(err)
	}
	out, err := st.RunSchedules(t.Context())
	if err != nil {
		t.Fatalf("refresh run: %v", err)
	}
	t.Logf("refresh run: %s", out["RefreshFunction"])
}

func getItemMaybe(t *testing.T, st *devstack.Stack, spid, region string) map[string]string {
	t.Helper()
	out, err := dynamodb.NewFromConfig(st.AWS).GetItem(t.Context(), &dynamodb.GetItemInput{
		TableName:      aws.String(st.TokenTable),
		ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{
			"selling_partner_id": &types.AttributeValueMemberS{Value: spid},
			"region":             &types.AttributeValueMemberS{Value: region},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.Item == nil {
		return nil
	}
	m := map[string]string{}
	for k, v := range out.Item {
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			m[k] = v.Value
		case *types.AttributeValueMemberN:
			m[k] = v.Value
		}
	}
	return m
}

func getItem(t *testing.T, st *devstack.Stack, spid, region string) map[string]string {
	t.Helper()
	m := getItemMaybe(t, st, spid, region)
	if m == nil {
		t.Fatalf("no token item for %s/%s", spid, region)
	}
	return m
}

func hasCookie(cs []*network.Cookie, name string) bool {
	for _, c := range cs {
		if c.Name == name {
			return true
		}
	}
	return false
}

func cookieNames(cs []*network.Cookie) []string {
	var n []string
	for _, c := range cs {
		n = append(n, c.Name)
	}
	return n
}

type shots struct {
	t    *testing.T
	dirs []string
}

func newShots(t *testing.T) *shots {
	s := &shots{t: t, dirs: []string{t.ArtifactDir()}}
	if d := os.Getenv("E2E_SCREENSHOTS"); d != "" {
		s.dirs = append(s.dirs, screenshotDir(t, d))
	}
	return s
}

func (s *shots) take(c context.Context, name string) {
	s.t.Helper()
	var png []byte
	var err error
	// A screenshot taken while the page is still settling can stall: one retry.
	for range 2 {
		sc, cancel := context.WithTimeout(c, 10*time.Second)
		err = chromedp.Run(sc, chromedp.WaitReady(`body`), chromedp.CaptureScreenshot(&png))
		cancel()
		if err == nil {
			break
		}
	}
	if err != nil {
		s.t.Fatalf("screenshot %s: %v", name, err)
	}
	for _, d := range s.dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			s.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, name+".png"), png, 0o644); err != nil {
			s.t.Fatal(err)
		}
	}
	s.t.Logf("screenshot %s.png", name)
}
