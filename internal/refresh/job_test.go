package refresh_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sellerauth/sellerauth/internal/amazon"
	"github.com/sellerauth/sellerauth/internal/authflow"
	"github.com/sellerauth/sellerauth/internal/dynamo"
	"github.com/sellerauth/sellerauth/internal/lwa"
	"github.com/sellerauth/sellerauth/internal/refresh"
	"github.com/sellerauth/sellerauth/internal/sandbox"
)

// outcome classifies a seeded seller's item after runs: refreshed (a new access token LWA
// accepts, the same refresh token, a later version, the next due time set from the new expiry)
// or untouched (its tokens as seeded). Anything else is corruption.
func (f *fixture) outcome(s seller) string {
	f.t.Helper()
	it := f.item(s.id)
	switch {
	case it.Status != dynamo.StatusActive || it.RefreshToken != s.refreshToken:
		return "corrupted"
	case it.AccessToken == s.accessToken:
		return "untouched"
	case f.amazon.AccessTokenValid(it.AccessToken) && it.Version > s.version &&
		it.RefreshDueAt.Equal(it.AccessTokenExpiresAt.Add(-dynamo.RefreshLead)) &&
		it.AccessTokenExpiresAt.After(f.clock.Now().Add(50*time.Minute)):
		return "refreshed"
	default:
		return "corrupted"
	}
}

func TestDueSelectionReadsWhatItRefreshes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	sellers := f.seed(5000, 500)
	f.reads.n.Store(0)
	f.calls.Reset()

	s, err := f.job(refresh.Policy{}).Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if s.Due != 500 || s.Refreshed != 500 || s.Failed+s.Raced+s.Left+s.Revoked != 0 {
		t.Fatalf("summary %+v, want 500 due and refreshed, nothing else", s)
	}
	if got := f.reads.n.Load(); got > 550 {
		t.Errorf("the run read %d items for 500 due, want at most 550", got)
	} else {
		t.Logf("items read: %d for 500 due; DynamoDB calls %v", got, f.calls.Counts())
	}
	if n := f.calls.Count("DynamoDB.Scan"); n != 0 {
		t.Errorf("the run scanned the table %d times", n)
	}
	if got := f.amazon.Stats().Refreshes; got != 500 {
		t.Errorf("LWA refreshes = %d, want 500", got)
	}
	for _, sl := range sellers {
		want := "untouched"
		if sl.due {
			want = "refreshed"
		}
		if sl.due || sl.id[len(sl.id)-2:] == "00" { // every due seller and a sample of the others
			if got := f.outcome(sl); got != want {
				t.Fatalf("%s (due %v): %s, want %s", sl.id, sl.due, got, want)
			}
		}
	}

	// EventBridge delivers at least once: a duplicate run finds nothing due.
	again, err := f.job(refresh.Policy{}).Run(t.Context())
	if err != nil || again.Due != 0 || again.Refreshed != 0 {
		t.Errorf("duplicate run: %+v, %v; want nothing due", again, err)
	}
}

func TestFaultsLoseNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault sandbox.Fault
	}{
		{"429", sandbox.Fault{Status: 429}},
		{"500", sandbox.Fault{Status: 500}},
		{"slow beyond the client timeout", sandbox.Fault{Delay: 3 * time.Second}},
		{"connection closed", sandbox.Fault{CloseConnection: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.lwa.HTTPClient.Timeout = 500 * time.Millisecond
			sellers := f.seed(120, 100)
			f.amazon.SetFaultRate(0.4, tc.fault)

			s, err := f.job(refresh.Policy{}).Run(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if s.Refreshed+s.Failed != 100 || s.Raced+s.Revoked != 0 {
				t.Fatalf("summary %+v: want 100 refreshed or failed", s)
			}
			if s.Refreshed == 0 || s.Retried == 0 && f.amazon.Stats().Faults > 0 && s.Failed == 0 {
				t.Logf("summary %+v", s)
			}
			counts := map[string]int{}
			for _, sl := range sellers {
				counts[f.outcome(sl)]++
			}
			if counts["corrupted"] != 0 || counts["refreshed"] != int(s.Refreshed)+20 && counts["refreshed"] != int(s.Refreshed) {
				t.Fatalf("after the faulty run: %v, summary %+v", counts, s)
			}

			// What failed is due again once the claim lapses; with LWA healthy the next run
			// refreshes it all.
			f.amazon.SetFaultRate(0, sandbox.Fault{})
			f.clock.Advance(refresh.DefaultLease + time.Second)
			next, err := f.job(refresh.Policy{}).Run(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if next.Refreshed != s.Failed {
				t.Errorf("next run refreshed %d, want the %d that failed", next.Refreshed, s.Failed)
			}
			for _, sl := range sellers[:100] {
				if got := f.outcome(sl); got != "refreshed" {
					t.Errorf("%s: %s after the second run", sl.id, got)
				}
			}
		})
	}
}

// reauthorizingRefresher re-authorizes one seller while LWA is refreshing that seller's token:
// the callback landing in the middle of a refresh.
type reauthorizingRefresher struct {
	f      *fixture
	target string // refresh token whose refresh triggers the re-authorization
	once   sync.Once
	newTok lwa.Token
	err    error
}

func (r *reauthorizingRefresher) Refresh(ctx context.Context, refreshToken string) (lwa.Token, error) {
	tok, err := r.f.lwa.Refresh(ctx, refreshToken)
	if refreshToken == r.target {
		r.once.Do(func() {
			r.newTok, r.err = r.f.lwa.ExchangeCode(ctx, r.f.amazon.IssueCode(sellerID(0)), "")
			if r.err == nil {
				now := r.f.clock.Now()
				r.err = r.f.store.SaveAuthorization(ctx, authflow.Authorization{
					SellingPartnerID: sellerID(0), Region: amazon.RegionNA, AccountType: amazon.Seller,
					RefreshToken: r.newTok.RefreshToken, AccessToken: r.newTok.AccessToken,
					AccessTokenExpiresAt: now.Add(r.newTok.ExpiresIn), AuthorizedAt: now,
				})
			}
		})
	}
	return tok, err
}

func TestOverlappingRunsAndReauthorization(t *testing.T) {
	t.Parallel()
	for _, claim := range []bool{false, true} {
		t.Run(fmt.Sprintf("claim=%v", claim), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			sellers := f.seed(300, 200)
			f.amazon.SetLatency(10 * time.Millisecond)
			reauth := &reauthorizingRefresher{f: f, target: sellers[0].refreshToken}
			refreshesBefore := f.amazon.Stats().Refreshes

			var wg sync.WaitGroup
			summaries := make([]refresh.Summary, 2)
			for i := range summaries {
				wg.Go(func() {
					j := f.job(refresh.Policy{Concurrency: 8, Claim: claim})
					j.Refresher = reauth
					var err error
					summaries[i], err = j.Run(t.Context())
					if err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			if reauth.err != nil {
				t.Fatalf("re-authorization: %v", reauth.err)
			}
			// Every due seller's token is stored once, by one of the runs; the re-authorized
			// seller's refresh loses to the newer authorization.
			if refreshed := summaries[0].Refreshed + summaries[1].Refreshed; refreshed != 199 {
				t.Errorf("refreshed %d in two runs (%+v, %+v), want 199", refreshed, summaries[0], summaries[1])
			}
			lwaRefreshes := f.amazon.Stats().Refreshes - refreshesBefore
			if claim && lwaRefreshes != 200 {
				t.Errorf("LWA refreshes = %d, want 200: with claims no token goes to LWA twice", lwaRefreshes)
			}
			t.Logf("LWA refreshes: %d; summaries %+v / %+v", lwaRefreshes, summaries[0], summaries[1])
			it := f.item(sellerID(0))
			if it.RefreshToken != reauth.newTok.RefreshToken || it.AccessToken != reauth.newTok.AccessToken || !f.amazon.AccessTokenValid(it.AccessToken) {
				t.Errorf("the re-authorization did not win: the item holds another token")
			}
			if it.Version <= sellers[0].version {
				t.Errorf("re-authorized seller: version %d, was %d", it.Version, sellers[0].version)
			}
			// One write per refresh (two with a claim): nothing was written twice.
			wantVersion := sellers[1].version + 1
			if claim {
				wantVersion++
			}
			for _, sl := range sellers[1:200] {
				if got := f.outcome(sl); got != "refreshed" {
					t.Errorf("%s: %s", sl.id, got)
				}
				if it := f.item(sl.id); it.Version != wantVersion {
					t.Errorf("%s: version %d, want %d", sl.id, it.Version, wantVersion)
				}
			}
		})
	}
}

// TestClaimedEntriesLeaveALaterRunsWindow: a run that starts while another holds claims must
// not find the claimed entries due (it takes what is due before its start + Margin), or both
// would call LWA for them.
func TestClaimedEntriesLeaveALaterRunsWindow(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.seed(20, 20)
	f.amazon.SetLatency(400 * time.Millisecond)
	before := f.amazon.Stats().Refreshes
	started := make(chan struct{})
	var wg sync.WaitGroup
	summaries := make([]refresh.Summary, 2)
	for i := range summaries {
		wg.Go(func() {
			if i == 1 {
				<-started // the first run has claimed entries and is waiting on LWA
			}
			j := f.job(refresh.Policy{Concurrency: 2, Claim: true})
			var err error
			summaries[i], err = j.Run(t.Context())
			if err != nil {
				t.Error(err)
			}
		})
	}
	for f.amazon.Stats().Refreshes == before {
		time.Sleep(time.Millisecond)
	}
	close(started)
	wg.Wait()
	if n := f.amazon.Stats().Refreshes - before; n != 20 {
		t.Errorf("LWA refreshes = %d for 20 due tokens (runs %+v / %+v)", n, summaries[0], summaries[1])
	}
	if got := summaries[0].Refreshed + summaries[1].Refreshed; got != 20 {
		t.Errorf("refreshed %d of 20", got)
	}
}

func TestRevocationConfirmedOnlyAfterRepeats(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	sellers := f.seed(2, 2)
	revoked, healthy := sellers[0], sellers[1]
	f.amazon.Revoke(revoked.id)
	job := f.job(refresh.Policy{Concurrency: 1})

	start := f.clock.Now()
	var last refresh.Summary
	for run := range 4 {
		f.clock.Advance(time.Duration(min(run, 1)) * 20 * time.Minute)
		s, err := job.Run(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		last = s
		it := f.item(revoked.id)
		if it.RefreshToken != revoked.refreshToken || it.AccessToken != revoked.accessToken {
			t.Fatalf("run %d touched the tokens of the revoked seller", run)
		}
		if run < 3 {
			if it.Status != dynamo.StatusActive || !it.ExpiresAt.IsZero() || it.InvalidGrantCount != run+1 || !it.InvalidGrantFirstAt.Equal(start) {
				t.Fatalf("run %d: status %s, TTL %v, invalid_grant_count %d, first %v; want active, counting from %v",
					run, it.Status, it.ExpiresAt, it.InvalidGrantCount, it.InvalidGrantFirstAt, start)
			}
			if want := f.clock.Now().Add(refresh.DefaultRetryInvalidGrantAfter); !it.RefreshDueAt.Equal(want) {
				t.Fatalf("run %d: due again at %v, want %v", run, it.RefreshDueAt, want)
			}
		}
		if run < 3 && (s.InvalidGrant != 1 || s.Revoked != 0) {
			t.Fatalf("run %d: %+v, want one unconfirmed invalid_grant", run, s)
		}
	}
	if last.Revoked != 1 {
		t.Fatalf("fourth run (an hour after the first invalid_grant): %+v, want one revoked", last)
	}
	it := f.item(revoked.id)
	if it.Status != dynamo.StatusReauthorizationRequired || !it.ExpiresAt.Equal(f.clock.Now().Add(refresh.DefaultDeadTTL)) ||
		!it.RefreshDueAt.IsZero() {
		t.Fatalf("revoked item: status %s, TTL %v, due %v; want reauthorization_required, TTL in 30 days, out of the index",
			it.Status, it.ExpiresAt, it.RefreshDueAt)
	}
	// Out of the index: later runs never see it again.
	f.clock.Advance(2 * time.Hour)
	s, err := job.Run(t.Context())
	if err != nil || s.Due != 1 || s.Refreshed != 1 {
		t.Errorf("run after revocation: %+v, %v; want only the healthy seller due", s, err)
	}
	if f.outcome(healthy) != "refreshed" {
		t.Errorf("healthy seller not refreshed")
	}
}

func TestTransientInvalidGrantLosesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	sl := f.seed(1, 1)[0]
	f.amazon.Inject(sandbox.Fault{Code: lwa.CodeInvalidGrant})
	job := f.job(refresh.Policy{})
	s, err := job.Run(t.Context())
	if err != nil || s.InvalidGrant != 1 {
		t.Fatalf("first run: %+v, %v; want one invalid_grant", s, err)
	}
	if got := f.outcome(sl); got != "untouched" {
		t.Fatalf("after one invalid_grant: %s", got)
	}
	f.clock.Advance(refresh.DefaultRetryInvalidGrantAfter)
	if s, err := job.Run(t.Context()); err != nil || s.Refreshed != 1 {
		t.Fatalf("second run: %+v, %v; want it refreshed", s, err)
	}
	it := f.item(sl.id)
	if f.outcome(sl) != "refreshed" || it.InvalidGrantCount != 0 || !it.InvalidGrantFirstAt.IsZero() {
		t.Errorf("after a successful refresh: %s, invalid_grant bookkeeping %d, %v", f.outcome(sl), it.InvalidGrantCount, it.InvalidGrantFirstAt)
	}
}

func TestInvalidClientStopsTheRun(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	sellers := f.seed(60, 50)
	f.amazon.RotateSecret("amzn1.oa2-cs.v1.a-secret-we-do-not-have")
	f.amazon.RetireOldSecret()
	f.calls.Reset()
	before := f.amazon.Stats().TokenRequests

	s, err := f.job(refresh.Policy{Concurrency: 4}).Run(t.Context())
	if !errors.Is(err, refresh.ErrInvalidClient) {
		t.Fatalf("err = %v, want ErrInvalidClient", err)
	}
	if s.InvalidClient != 1 || s.Refreshed != 0 || s.Revoked != 0 || s.InvalidGrant != 0 {
		t.Errorf("summary %+v", s)
	}
	// The secret was fetched while seeding; invalid_client fetches it again (once per worker
	// that met it at most).
	if got := f.calls.Count("SecretsManager.GetSecretValue"); got < 1 || got > 4 {
		t.Errorf("GetSecretValue called %d times, want 1 to 4 refetches", got)
	}
	if got := f.amazon.Stats().TokenRequests - before; got > 2*4 {
		t.Errorf("%d token requests: the run went on after invalid_client", got)
	}
	for _, sl := range sellers {
		if got := f.outcome(sl); got != "untouched" {
			t.Errorf("%s: %s", sl.id, got)
		}
	}
	if !strings.Contains(f.logText(), `"InvalidClient":1`) {
		t.Errorf("no EMF line with InvalidClient=1 in:\n%s", f.logText())
	}
	if !strings.Contains(f.logText(), `"level":"ERROR"`) {
		t.Errorf("the stop was not logged as an error")
	}
}

func TestSummaryIsOneLogLineAndOneEMFLine(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	sellers := f.seed(3, 3)
	// One seller must re-authorize within 10 days (public apps: every 365 days).
	_, err := f.env.DynamoDB.UpdateItem(t.Context(), &dynamodb.UpdateItemInput{
		TableName: aws.String(f.table),
		Key: map[string]types.AttributeValue{
			dynamo.AttrSellingPartnerID: &types.AttributeValueMemberS{Value: sellers[0].id},
			dynamo.AttrRegion:           &types.AttributeValueMemberS{Value: string(amazon.RegionNA)},
		},
		UpdateExpression:          aws.String("SET reauthorize_by = :r"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":r": &types.AttributeValueMemberN{Value: strconv.FormatInt(f.clock.Now().Add(10*24*time.Hour).Unix(), 10)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := f.job(refresh.Policy{}).Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if s.ReauthorizeSoon != 1 {
		t.Errorf("ReauthorizeSoon = %d, want 1", s.ReauthorizeSoon)
	}
	var emf struct {
		AWS struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
		Due, Refreshed, Failed, InvalidClient *int64
	}
	var summaries int
	for _, line := range strings.Split(strings.TrimSpace(f.logText()), "\n") {
		switch {
		case strings.Contains(line, `"_aws"`):
			if err := json.Unmarshal([]byte(line), &emf); err != nil {
				t.Fatalf("EMF line is not JSON: %v", err)
			}
		case strings.Contains(line, `"msg":"refresh run"`):
			summaries++
			for _, field := range []string{"due", "refreshed", "retried", "failed", "revoked", "left_for_next_run", "duration_ms"} {
				if !strings.Contains(line, `"`+field+`":`) {
					t.Errorf("summary log has no %s: %s", field, line)
				}
			}
		}
	}
	if summaries != 1 {
		t.Errorf("%d summary lines, want 1", summaries)
	}
	m := emf.AWS.CloudWatchMetrics
	if len(m) != 1 || m[0].Namespace != refresh.MetricsNamespace || len(m[0].Metrics) == 0 || emf.AWS.Timestamp == 0 {
		t.Fatalf("EMF directive %+v", emf.AWS)
	}
	if emf.Due == nil || *emf.Due != 3 || emf.Refreshed == nil || *emf.Refreshed != 3 || emf.InvalidClient == nil || *emf.InvalidClient != 0 {
		t.Errorf("EMF values: due %v refreshed %v invalid client %v", emf.Due, emf.Refreshed, emf.InvalidClient)
	}
}

func TestUnreachableDynamoDBFailsTheRun(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	j := f.job(refresh.Policy{})
	j.Store = &dynamo.TokenStore{Client: dynamodb.NewFromConfig(f.env.Unreachable()), Table: f.table}
	s, err := j.Run(t.Context())
	if err == nil || errors.Is(err, refresh.ErrInvalidClient) {
		t.Fatalf("err = %v, want the index read's failure", err)
	}
	if s.Refreshed != 0 || !strings.Contains(f.logText(), `"msg":"refresh run stopped"`) {
		t.Errorf("summary %+v; logs:\n%s", s, f.logText())
	}
}

func TestReminderDue(t *testing.T) {
	deadline := time.Date(2027, 11, 25, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	for _, tc := range []struct {
		left time.Duration
		days int
		ok   bool
	}{
		{60 * day, 0, false},
		{30*day + time.Minute, 0, false},
		{30 * day, 30, true},
		{29*day + time.Hour, 30, true},
		{29*day - time.Hour, 0, false}, // past the 30-day window: noted before, or missed
		{7 * day, 7, true},
		{6*day + time.Minute, 7, true},
		{3 * day, 0, false},
		{day, 1, true},
		{time.Minute, 1, true},
		{0, 0, false},
		{-day, 0, false},
	} {
		days, ok := refresh.ReminderDue(deadline, deadline.Add(-tc.left))
		if days != tc.days || ok != tc.ok {
			t.Errorf("%v before the deadline: ReminderDue = %d, %v; want %d, %v", tc.left, days, ok, tc.days, tc.ok)
		}
	}
	if _, ok := refresh.ReminderDue(time.Time{}, deadline); ok {
		t.Error("a reminder for an authorization without reauthorize_by")
	}
}
