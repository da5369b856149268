package fn_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sellerauth/sellerauth/internal/amazon"
	"github.com/sellerauth/sellerauth/internal/dynamo"
	"github.com/sellerauth/sellerauth/internal/fn"
	refreshfn "github.com/sellerauth/sellerauth/internal/fn/refresh"
	"github.com/sellerauth/sellerauth/internal/refresh"
)

func TestRefreshConfigErrors(t *testing.T) {
	t.Parallel()
	base := map[string]string{
		"TOKEN_TABLE_NAME":          "tokens",
		"LWA_CREDENTIALS_SECRET_ID": "arn:aws:secretsmanager:us-east-1:123456789012:secret:lwa",
	}
	tests := []struct {
		name, key, value, want string
	}{
		{"no table", "TOKEN_TABLE_NAME", "", "TOKEN_TABLE_NAME is required"},
		{"no secret", "LWA_CREDENTIALS_SECRET_ID", "", "LWA_CREDENTIALS_SECRET_ID is required"},
		{"concurrency zero", "REFRESH_CONCURRENCY", "0", "REFRESH_CONCURRENCY must be a whole number from 1 to 256"},
		{"concurrency not a number", "REFRESH_CONCURRENCY", "many", "REFRESH_CONCURRENCY"},
		{"margin too small", "REFRESH_MARGIN_SECONDS", "5", "REFRESH_MARGIN_SECONDS"},
		{"margin past the invalid_grant retry", "REFRESH_MARGIN_SECONDS", "600", "REFRESH_MARGIN_SECONDS must be a whole number from 60 to 540"},
		{"reserve as long as the timeout", "REFRESH_RESERVE_SECONDS", "300", "REFRESH_RESERVE_SECONDS must be a whole number from 1 to 60"},
		{"ttl days", "REAUTHORIZATION_TTL_DAYS", "0", "REAUTHORIZATION_TTL_DAYS"},
		{"claim", "REFRESH_CLAIM", "yes", "REFRESH_CLAIM must be true or false"},
		{"brake minimum zero", "MASS_REVOCATION_MIN", "0", "MASS_REVOCATION_MIN must be a whole number from 1 to 1000000"},
		{"brake minimum not a number", "MASS_REVOCATION_MIN", "five", "MASS_REVOCATION_MIN"},
		{"brake share zero", "MASS_REVOCATION_SHARE", "0", "MASS_REVOCATION_SHARE must be a whole number from 1 to 100"},
		{"brake share above 100", "MASS_REVOCATION_SHARE", "101", "MASS_REVOCATION_SHARE"},
		{"brake share as a fraction", "MASS_REVOCATION_SHARE", "0.2", "MASS_REVOCATION_SHARE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			env[tc.key] = tc.value
			_, err := refreshfn.New(fn.Runtime{Getenv: func(k string) string { return env[k] }, Log: slog.New(slog.DiscardHandler)})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

// The brake on mass revocation is configured by MASS_REVOCATION_MIN and MASS_REVOCATION_SHARE,
// 5 sellers and 20% by default.
func TestRefreshBrakeConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		min, share       string
		wantMin, wantPct int
	}{
		{"", "", refresh.DefaultMassRevocationMin, refresh.DefaultMassRevocationShare},
		{"7", "35", 7, 35},
		{"1", "100", 1, 100},
	} {
		env := map[string]string{
			"TOKEN_TABLE_NAME":          "tokens",
			"LWA_CREDENTIALS_SECRET_ID": "arn:aws:secretsmanager:us-east-1:123456789012:secret:lwa",
			"MASS_REVOCATION_MIN":       tc.min,
			"MASS_REVOCATION_SHARE":     tc.share,
		}
		h, err := refreshfn.New(fn.Runtime{Getenv: func(k string) string { return env[k] }, Log: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		if p := h.Job.Policy; p.MassRevocationMin != tc.wantMin || p.MassRevocationShare != tc.wantPct {
			t.Errorf("MASS_REVOCATION_MIN=%q MASS_REVOCATION_SHARE=%q: policy %d, %d%%; want %d, %d%%",
				tc.min, tc.share, p.MassRevocationMin, p.MassRevocationShare, tc.wantMin, tc.wantPct)
		}
	}
	if refresh.DefaultMassRevocationMin != 5 || refresh.DefaultMassRevocationShare != 20 {
		t.Errorf("defaults %d, %d%%; docs/refresh.md and the template say 5 and 20%%", refresh.DefaultMassRevocationMin, refresh.DefaultMassRevocationShare)
	}
}

// The refresh function end to end: a seller authorized through the callback is refreshed by the
// scheduled handler once the token is due, with one summary log line and one EMF line.
func TestRefreshFunctionRefreshesAnAuthorizedSeller(t *testing.T) {
	s := newStack(t)
	state, _ := s.startWebsite("marketplace=US")
	if res := s.callbackWith(state, s.consent(), stateCookie(state)); res.StatusCode >= 400 {
		t.Fatalf("callback: status %d", res.StatusCode)
	}
	before := s.storedItem(amazon.RegionNA)

	var logBuf, metrics bytes.Buffer
	rt := s.runtime(s.aws.Config)
	rt.Log = slog.New(slog.NewJSONHandler(io.MultiWriter(&logBuf, logs), nil))
	h, err := refreshfn.New(rt)
	if err != nil {
		t.Fatal(err)
	}
	h.Job.Metrics = &metrics
	payload, err := os.ReadFile("testdata/scheduler-refresh.json") // template.yaml's schedule Input
	if err != nil {
		t.Fatal(err)
	}

	res, err := h.Handle(t.Context(), json.RawMessage(payload))
	if err != nil || res.Due != 0 {
		t.Fatalf("run before the token is due: %+v, %v", res, err)
	}
	s.clock.Advance(time.Hour - dynamo.RefreshLead - time.Minute) // within the 5-minute margin
	res, err = h.Handle(t.Context(), json.RawMessage(payload))
	if err != nil || res.Due != 1 || res.Refreshed != 1 {
		t.Fatalf("run once due: %+v, %v", res, err)
	}
	after := s.storedItem(amazon.RegionNA)
	if after.AccessToken == before.AccessToken || !s.amazon.AccessTokenValid(after.AccessToken) ||
		after.RefreshToken != before.RefreshToken || after.Version != before.Version+1 {
		t.Errorf("item after refresh: new valid token %v, same refresh token %v, version %d (was %d)",
			after.AccessToken != before.AccessToken && s.amazon.AccessTokenValid(after.AccessToken),
			after.RefreshToken == before.RefreshToken, after.Version, before.Version)
	}
	if n := strings.Count(logBuf.String(), `"msg":"refresh run"`); n != 2 {
		t.Errorf("%d summary lines for two runs", n)
	}
	if n := strings.Count(metrics.String(), `"Namespace":"SPAPIAuth"`); n != 2 {
		t.Errorf("%d EMF lines for two runs", n)
	}
	for _, secret := range []string{after.AccessToken, after.RefreshToken, clientSecret} {
		if strings.Contains(logBuf.String(), secret) || strings.Contains(metrics.String(), secret) {
			t.Error("a secret reached the refresh function's output")
		}
	}
}
