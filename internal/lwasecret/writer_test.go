package lwasecret_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sellerauth/sellerauth/internal/lwasecret"
)

const (
	newSecret  = "amzn1.oa2-cs.v1.new-secret-from-a-notification"
	newerToken = "5d0c1b8e-2f4a-4c6e-9a1b-3c5d7e9f1a2b"
	olderToken = "7e2d3c9f-4a5b-4d7f-8b2c-4d6e8f0a2b3c"
)

var (
	secretExpires = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC) // the stored secret's
	olderExpires  = time.Date(2027, 5, 20, 12, 0, 0, 0, time.UTC)
	newerExpires  = time.Date(2027, 5, 24, 12, 0, 0, 0, time.UTC)
)

// storedSecret is a secret as the rotation function finds it: the credentials, the stored
// secret's expiry, and a field the operator keeps there.
func storedSecret() string {
	return `{"client_id":"` + first.ClientID + `","client_secret":"` + first.ClientSecret +
		`","client_secret_expires_at":"` + secretExpires.Format(time.RFC3339) + `","note":"kept"}`
}

// current reads the secret's AWSCURRENT version: its fields and its ID.
func (f *fixture) current(t *testing.T) (map[string]string, string) {
	t.Helper()
	out, err := f.env.SecretsManager.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(f.secretID), VersionStage: aws.String("AWSCURRENT")})
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]string
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &fields); err != nil {
		t.Fatal(err)
	}
	return fields, aws.ToString(out.VersionId)
}

// TestSecretsManagerRefusesAStaleStageSwap pins the behaviour of Secrets Manager (here moto) that
// Writer.ReplaceSecret's compare-and-swap rests on: PutSecretValue with VersionStages leaves
// AWSCURRENT where it is, and UpdateSecretVersionStage refuses to move AWSCURRENT from a version
// that no longer holds it.
func TestSecretsManagerRefusesAStaleStageSwap(t *testing.T) {
	t.Parallel()
	f := newFixture(t, secretJSON(first))
	ctx := t.Context()
	_, read := f.current(t)
	put := func(value string) string {
		out, err := f.client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
			SecretId: aws.String(f.secretID), SecretString: aws.String(value), VersionStages: []string{lwasecret.NewVersionStage},
		})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.VersionId)
	}
	a, b := put(secretJSON(second)), put(`{"x":"y"}`)
	if fields, cur := f.current(t); cur != read || fields["client_secret"] != first.ClientSecret {
		t.Fatal("PutSecretValue with VersionStages moved AWSCURRENT")
	}
	swap := func(to string) error {
		_, err := f.client.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
			SecretId: aws.String(f.secretID), VersionStage: aws.String("AWSCURRENT"),
			MoveToVersionId: aws.String(to), RemoveFromVersionId: aws.String(read),
		})
		return err
	}
	if err := swap(a); err != nil {
		t.Fatalf("swap from the version read: %v", err)
	}
	if err := swap(b); err == nil {
		t.Fatal("a swap from a version that no longer holds AWSCURRENT was accepted: the compare-and-swap does not hold")
	}
	if _, cur := f.current(t); cur != a {
		t.Fatal("the refused swap moved AWSCURRENT")
	}
}

func TestReplaceSecret(t *testing.T) {
	t.Parallel()
	f := newFixture(t, storedSecret())
	w := lwasecret.NewWriter(f.client, f.secretID)
	ctx := t.Context()
	_, before := f.current(t)

	if ok, err := w.ReplaceSecret(ctx, newSecret, time.Time{}, newerToken); ok || !errors.Is(err, lwasecret.ErrNoExpiry) {
		t.Fatalf("without an expiry: %v, %v; want ErrNoExpiry", ok, err)
	}
	if ok, err := w.ReplaceSecret(ctx, newSecret, secretExpires, newerToken); ok || err != nil {
		t.Fatalf("expiring with the stored secret: %v, %v; want nothing stored", ok, err)
	}
	if _, cur := f.current(t); cur != before {
		t.Fatal("a refused secret changed the secret")
	}

	f.calls.Reset()
	if ok, err := w.ReplaceSecret(ctx, newSecret, newerExpires, newerToken); !ok || err != nil {
		t.Fatalf("newer secret: %v, %v", ok, err)
	}
	fields, cur := f.current(t)
	want := map[string]string{"client_id": first.ClientID, "client_secret": newSecret, "client_secret_expires_at": "2027-05-24T12:00:00Z", "note": "kept"}
	if len(fields) != len(want) || fields["client_secret"] != newSecret || fields["client_secret_expires_at"] != want["client_secret_expires_at"] ||
		fields["client_id"] != first.ClientID || fields["note"] != "kept" {
		t.Errorf("stored fields %v; want %v", keys(fields), want["client_secret_expires_at"])
	}
	if cur != newerToken {
		t.Errorf("current version %s, want the request token %s", cur, newerToken)
	}
	if got := f.calls.Counts(); got["SecretsManager.GetSecretValue"] != 1 || got["SecretsManager.PutSecretValue"] != 1 || got["SecretsManager.UpdateSecretVersionStage"] != 1 {
		t.Errorf("calls %v, want one read, one put, one swap", got)
	}
	if ok, err := w.ReplaceSecret(ctx, "amzn1.oa2-cs.v1.older", olderExpires, olderToken); ok || err != nil {
		t.Errorf("older secret after the newer: %v, %v; want nothing stored", ok, err)
	}
	if ok, err := w.ReplaceSecret(ctx, "amzn1.oa2-cs.v1.other", newerExpires.Add(time.Hour), newerToken); ok || err != nil {
		t.Errorf("request token used before: %v, %v; want nothing stored", ok, err)
	}
	if fields, _ := f.current(t); fields["client_secret"] != newSecret {
		t.Error("the stored secret went back")
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// interleaved lets a test act between a Writer's read and its swap.
type interleaved struct {
	lwasecret.WriteAPI
	mu sync.Mutex
	// beforeFirstPut runs once, before the Writer's first PutSecretValue.
	beforeFirstPut func()
	// swap, if set, replaces UpdateSecretVersionStage.
	swap  func(context.Context, *secretsmanager.UpdateSecretVersionStageInput) (*secretsmanager.UpdateSecretVersionStageOutput, error)
	swaps int
}

func (i *interleaved) PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error) {
	i.mu.Lock()
	f := i.beforeFirstPut
	i.beforeFirstPut = nil
	i.mu.Unlock()
	if f != nil {
		f()
	}
	return i.WriteAPI.PutSecretValue(ctx, in, opts...)
}

func (i *interleaved) UpdateSecretVersionStage(ctx context.Context, in *secretsmanager.UpdateSecretVersionStageInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error) {
	i.mu.Lock()
	i.swaps++
	swap := i.swap
	i.mu.Unlock()
	if swap != nil {
		return swap(ctx, in)
	}
	return i.WriteAPI.UpdateSecretVersionStage(ctx, in, opts...)
}

// TestReplaceSecretIsACompareAndSwap: another writer stores its secret between this writer's read
// and its swap. The swap is refused; the secret is read again, and the newer of the two stays.
func TestReplaceSecretIsACompareAndSwap(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name              string
		mine, theirs      time.Time
		wantStored        bool
		wantSwaps, wantOK int
	}{
		{"a newer secret stored meanwhile", olderExpires, newerExpires, false, 1, 0},
		{"an older secret stored meanwhile", newerExpires, olderExpires, true, 2, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, storedSecret())
			other := lwasecret.NewWriter(f.client, f.secretID)
			api := &interleaved{WriteAPI: f.client}
			api.beforeFirstPut = func() {
				if ok, err := other.ReplaceSecret(t.Context(), "amzn1.oa2-cs.v1.theirs", tc.theirs, olderToken); !ok || err != nil {
					t.Errorf("the other writer: %v, %v", ok, err)
				}
			}
			ok, err := lwasecret.NewWriter(api, f.secretID).ReplaceSecret(t.Context(), newSecret, tc.mine, newerToken)
			if ok != tc.wantStored || err != nil {
				t.Fatalf("ReplaceSecret = %v, %v; want %v", ok, err, tc.wantStored)
			}
			fields, _ := f.current(t)
			want, wantExpiry := "amzn1.oa2-cs.v1.theirs", tc.theirs
			if tc.wantStored {
				want, wantExpiry = newSecret, tc.mine
			}
			if fields["client_secret"] != want || fields["client_secret_expires_at"] != wantExpiry.Format(time.RFC3339) || fields["note"] != "kept" {
				t.Errorf("stored: the %s secret expiring %s; want the %s one",
					map[bool]string{true: "new", false: "other"}[fields["client_secret"] == newSecret], fields["client_secret_expires_at"], map[bool]string{true: "new", false: "other"}[tc.wantStored])
			}
			if api.swaps != tc.wantSwaps {
				t.Errorf("%d swaps, want %d (the first refused)", api.swaps, tc.wantSwaps)
			}
		})
	}
}

// TestReplaceSecretSwapFailures: a refused swap with AWSCURRENT where it was read is an error
// (the message is delivered again), and a swap that was made but whose answer was lost is a
// success.
func TestReplaceSecretSwapFailures(t *testing.T) {
	t.Parallel()
	t.Run("refused, nothing moved", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, storedSecret())
		_, before := f.current(t)
		api := &interleaved{WriteAPI: f.client, swap: func(context.Context, *secretsmanager.UpdateSecretVersionStageInput) (*secretsmanager.UpdateSecretVersionStageOutput, error) {
			return nil, errors.New("AccessDeniedException: not allowed")
		}}
		ok, err := lwasecret.NewWriter(api, f.secretID).ReplaceSecret(t.Context(), newSecret, newerExpires, newerToken)
		if ok || err == nil || !strings.Contains(err.Error(), "AccessDenied") || strings.Contains(err.Error(), newSecret) {
			t.Fatalf("ReplaceSecret = %v, %v; want the swap's error, without the secret", ok, err)
		}
		if _, cur := f.current(t); cur != before || api.swaps != 1 {
			t.Errorf("current version moved (%v) or %d swaps", cur != before, api.swaps)
		}
	})
	t.Run("made, answer lost", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, storedSecret())
		api := &interleaved{WriteAPI: f.client}
		api.swap = func(ctx context.Context, in *secretsmanager.UpdateSecretVersionStageInput) (*secretsmanager.UpdateSecretVersionStageOutput, error) {
			if _, err := f.client.UpdateSecretVersionStage(ctx, in); err != nil {
				t.Error(err)
			}
			return nil, errors.New("connection reset by peer")
		}
		ok, err := lwasecret.NewWriter(api, f.secretID).ReplaceSecret(t.Context(), newSecret, newerExpires, newerToken)
		if !ok || err != nil {
			t.Fatalf("ReplaceSecret = %v, %v; want stored", ok, err)
		}
		if fields, _ := f.current(t); fields["client_secret"] != newSecret || api.swaps != 1 {
			t.Errorf("new secret current %v, %d swaps", fields["client_secret"] == newSecret, api.swaps)
		}
	})
}
