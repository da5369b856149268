package refresh_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sellerauth/sellerauth/internal/amazon"
	"github.com/sellerauth/sellerauth/internal/dynamo"
	"github.com/sellerauth/sellerauth/internal/lwa"
	"github.com/sellerauth/sellerauth/internal/refresh"
)

// confirmingRuns runs the job four times, 0, 20, 40 and 60 minutes after the start: an
// invalid_grant seen in every run is confirmed (third answer, an hour after the first) in the
// fourth. It returns the summaries.
func (f *fixture) confirmingRuns(t *testing.T, job *refresh.Job) []refresh.Summary {
	t.Helper()
	var out []refresh.Summary
	for run := range 4 {
		f.clock.Advance(time.Duration(min(run, 1)) * 20 * time.Minute)
		s, err := job.Run(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// summaryLines returns the run summary log lines and the EMF lines logged so far.
func (f *fixture) summaryLines() (summaries, metrics []string) {
	for _, line := range strings.Split(strings.TrimSpace(f.logText()), "\n") {
		switch {
		case strings.Contains(line, `"_aws"`):
			metrics = append(metrics, line)
		case strings.Contains(line, `"msg":"refresh run"`):
			summaries = append(summaries, line)
		}
	}
	return summaries, metrics
}

// Every seller revoked at once is not sellers revoking the app: a wrong secret or LWA answering
// wrongly. The run that would mark them marks nobody, leaves them active and due, and says so.
func TestMassInvalidGrantMarksNobody(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	sellers := f.seed(10, 10)
	for _, sl := range sellers {
		f.amazon.Revoke(sl.id)
	}
	job := f.job(refresh.Policy{})
	runs := f.confirmingRuns(t, job)
	for i, s := range runs[:3] {
		if s.InvalidGrant != 10 || s.MassInvalidGrant != 0 || s.Revoked != 0 {
			t.Fatalf("run %d: %+v, want 10 unconfirmed invalid_grants", i, s)
		}
	}
	if s := runs[3]; s.MassInvalidGrant != 1 || s.HeldBack != 10 || s.Revoked != 0 || s.Failed != 0 {
		t.Fatalf("confirming run: %+v, want the brake on, 10 held back, nobody revoked", s)
	}
	for _, sl := range sellers {
		it := f.item(sl.id)
		if it.Status != dynamo.StatusActive || !it.ExpiresAt.IsZero() || it.RefreshToken != sl.refreshToken || it.AccessToken != sl.accessToken {
			t.Fatalf("%s: status %s, TTL %v, tokens kept %v; want active, no TTL, tokens as they were",
				sl.id, it.Status, it.ExpiresAt, it.RefreshToken == sl.refreshToken && it.AccessToken == sl.accessToken)
		}
		// Due again like any unconfirmed invalid_grant, the bookkeeping recorded as usual.
		if want := f.clock.Now().Add(refresh.DefaultRetryInvalidGrantAfter); !it.RefreshDueAt.Equal(want) || it.InvalidGrantCount != 4 {
			t.Fatalf("%s: due %v, invalid_grant_count %d; want due at %v, 4 counted", sl.id, it.RefreshDueAt, it.InvalidGrantCount, want)
		}
	}
	summaries, metrics := f.summaryLines()
	if len(summaries) != 4 || len(metrics) != 4 {
		t.Fatalf("%d summary lines and %d EMF lines for 4 runs", len(summaries), len(metrics))
	}
	last := summaries[3]
	for _, want := range []string{`"level":"ERROR"`, `"mass_invalid_grant":true`, `"held_back":10`, `"revoked":0`} {
		if !strings.Contains(last, want) {
			t.Errorf("the braking run's summary has no %s: %s", want, last)
		}
	}
	if !strings.Contains(summaries[0], `"mass_invalid_grant":false`) {
		t.Errorf("a run without the brake: %s", summaries[0])
	}
	if !strings.Contains(metrics[3], `"MassInvalidGrant":1`) || !strings.Contains(metrics[3], `"RevocationsHeldBack":10`) || !strings.Contains(metrics[0], `"MassInvalidGrant":0`) {
		t.Errorf("EMF lines: %s / %s", metrics[0], metrics[3])
	}

	// While it lasts, every run holds them back again.
	f.clock.Advance(refresh.DefaultRetryInvalidGrantAfter)
	if s, err := job.Run(t.Context()); err != nil || s.MassInvalidGrant != 1 || s.HeldBack != 10 || s.Revoked != 0 {
		t.Fatalf("next run: %+v, %v; want the brake on again", s, err)
	}
}

// One seller among twenty revoking the app is marked as usual.
func TestOneRevocationAmongTwentyIsMarked(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	sellers := f.seed(20, 20)
	revoked := sellers[7]
	f.amazon.Revoke(revoked.id)
	runs := f.confirmingRuns(t, f.job(refresh.Policy{}))
	if s := runs[3]; s.Revoked != 1 || s.MassInvalidGrant != 0 || s.HeldBack != 0 {
		t.Fatalf("confirming run: %+v, want one revoked, no brake", s)
	}
	it := f.item(revoked.id)
	if it.Status != dynamo.StatusReauthorizationRequired || !it.ExpiresAt.Equal(f.clock.Now().Add(refresh.DefaultDeadTTL)) ||
		it.RefreshToken != revoked.refreshToken || it.AccessToken != revoked.accessToken {
		t.Fatalf("revoked seller: status %s, TTL %v; want reauthorization_required, tokens kept until the TTL in 30 days", it.Status, it.ExpiresAt)
	}
	for _, sl := range sellers {
		if sl.id != revoked.id && f.item(sl.id).Status != dynamo.StatusActive {
			t.Errorf("%s was marked", sl.id)
		}
	}
}

// revokingRefresher answers invalid_grant for the revoked refresh tokens, "LWA unavailable" for
// the unreachable ones, and a token for the rest.
type revokingRefresher struct{ revoked, unreachable map[string]bool }

func (r revokingRefresher) Refresh(_ context.Context, refreshToken string) (lwa.Token, error) {
	switch {
	case r.revoked[refreshToken]:
		return lwa.Token{}, &lwa.Error{Code: lwa.CodeInvalidGrant, HTTPStatus: 400}
	case r.unreachable[refreshToken]:
		return lwa.Token{}, fmt.Errorf("%w after 3 attempts: HTTP 503", lwa.ErrUnavailable)
	}
	return lwa.Token{AccessToken: "Atza|new-" + refreshToken, RefreshToken: refreshToken, ExpiresIn: time.Hour}, nil
}

// TestMassInvalidGrantRule: the brake holds when a run would mark at least MassRevocationMin
// sellers and at least MassRevocationShare percent of LWA's answers are invalid_grant; failures to
// ask LWA are not answers. When it holds, no mark is even attempted.
func TestMassInvalidGrantRule(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		policy                    refresh.Policy
		due, revoked, unreachable int
		brake                     bool
	}{
		{refresh.Policy{}, 4, 4, 0, false},  // below the minimum of 5
		{refresh.Policy{}, 25, 5, 0, true},  // 5 and 20%
		{refresh.Policy{}, 26, 5, 0, false}, // 19.2%
		{refresh.Policy{}, 10, 10, 0, true}, // every one
		{refresh.Policy{}, 1000, 300, 0, true},
		{refresh.Policy{}, 1000, 100, 0, false},
		{refresh.Policy{}, 30, 5, 5, true}, // 5 of 25 answers: the unreachable ones do not count
		{refresh.Policy{MassRevocationMin: 20, MassRevocationShare: 50}, 20, 19, 0, false},
		{refresh.Policy{MassRevocationMin: 20, MassRevocationShare: 50}, 40, 20, 0, true},
		{refresh.Policy{MassRevocationMin: 20, MassRevocationShare: 50}, 41, 20, 0, false},
	} {
		name := fmt.Sprintf("min=%d,share=%d,due=%d,revoked=%d,unreachable=%d",
			tc.policy.MassRevocationMin, tc.policy.MassRevocationShare, tc.due, tc.revoked, tc.unreachable)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			store := &memStore{version: map[string]int64{}}
			ref := revokingRefresher{revoked: map[string]bool{}, unreachable: map[string]bool{}}
			for i := range tc.due {
				id := sellerID(i)
				d := refresh.Due{SellingPartnerID: id, Region: amazon.RegionNA, RefreshToken: "Atzr|" + id, Version: 1}
				store.due = append(store.due, d)
				store.version[id] = 1
				switch {
				case i < tc.revoked:
					ref.revoked[d.RefreshToken] = true
				case i < tc.revoked+tc.unreachable:
					ref.unreachable[d.RefreshToken] = true
				}
			}
			job := &refresh.Job{Store: store, Refresher: ref, Policy: tc.policy, Log: slog.New(slog.DiscardHandler)}
			s, err := job.Run(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			want := refresh.Summary{Revoked: int64(tc.revoked)}
			if tc.brake {
				want = refresh.Summary{MassInvalidGrant: 1, HeldBack: int64(tc.revoked)}
			}
			if s.MassInvalidGrant != want.MassInvalidGrant || s.HeldBack != want.HeldBack || s.Revoked != want.Revoked ||
				s.Refreshed != int64(tc.due-tc.revoked-tc.unreachable) || s.Failed != int64(tc.unreachable) {
				t.Errorf("summary %+v; want brake %v, %d held back, %d revoked", s, tc.brake, want.HeldBack, want.Revoked)
			}
			if got := len(store.marked); got != int(want.Revoked) {
				t.Errorf("%d sellers marked, want %d", got, want.Revoked)
			}
		})
	}
}
