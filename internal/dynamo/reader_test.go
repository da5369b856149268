package dynamo_test

import (
	"errors"
	"testing"

	"github.com/sellerauth/sellerauth/internal/amazon"
	"github.com/sellerauth/sellerauth/internal/dynamo"
)

// TestReadAccessToken: the reader's GetItem returns the access-token attributes and the refresh
// token only when asked for, which is what lets it run under the reader policy.
func TestReadAccessToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := authorization(authorizedAt, "1")
	if err := f.tokens.SaveAuthorization(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	f.calls.Reset()
	got, err := f.tokens.ReadAccessToken(t.Context(), seller, amazon.RegionNA, false)
	if err != nil {
		t.Fatal(err)
	}
	if got.RefreshToken != "" || got.AccessToken != a.AccessToken || !got.ExpiresAt.Equal(a.AccessTokenExpiresAt) ||
		got.Version != 1 || got.ReauthorizationRequired {
		t.Errorf("read without refresh token: refresh token present %v, same access token %v, expires %s, version %d, reauthorization required %v",
			got.RefreshToken != "", got.AccessToken == a.AccessToken, got.ExpiresAt, got.Version, got.ReauthorizationRequired)
	}
	if n := f.calls.Count("DynamoDB.GetItem"); n != 1 || f.calls.Total() != 1 {
		t.Errorf("calls %v, want one GetItem", f.calls.Counts())
	}

	got, err = f.tokens.ReadAccessToken(t.Context(), seller, amazon.RegionNA, true)
	if err != nil || got.RefreshToken != a.RefreshToken {
		t.Errorf("read with refresh token: same refresh token %v, %v", got.RefreshToken == a.RefreshToken, err)
	}

	if _, err := f.tokens.ReadAccessToken(t.Context(), seller, amazon.RegionEU, false); !errors.Is(err, dynamo.ErrNotFound) {
		t.Errorf("never authorized in EU: err = %v, want ErrNotFound", err)
	}
}
