package fn_test

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sellerauth/sellerauth/internal/fn"
	authorizefn "github.com/sellerauth/sellerauth/internal/fn/authorize"
	callbackfn "github.com/sellerauth/sellerauth/internal/fn/callback"
	rotatesecretfn "github.com/sellerauth/sellerauth/internal/fn/rotatesecret"
)

func TestStartUpRefusesBadConfiguration(t *testing.T) {
	base := map[string]string{
		"APPLICATION_ID":            applicationID,
		"STATE_TABLE_NAME":          "state",
		"TOKEN_TABLE_NAME":          "token",
		"LWA_CREDENTIALS_SECRET_ID": "secret",
	}
	for _, tc := range []struct {
		name, key, value, want string
		callback               bool
	}{
		{"LWA client ID as application ID", "APPLICATION_ID", clientID, "LWA client ID", false},
		{"missing application ID", "APPLICATION_ID", "", "APPLICATION_ID", false},
		{"APP_DRAFT not boolean", "APP_DRAFT", "yes", "APP_DRAFT", false},
		{"unknown default marketplace", "DEFAULT_MARKETPLACE", "XX", "DEFAULT_MARKETPLACE", false},
		{"redirect URI with fragment", "REDIRECT_URI", "https://a.example/cb#x", "MD5110", false},
		{"redirect URI over http", "REDIRECT_URI", "http://a.example/cb", "https", true},
		{"state TTL out of range", "STATE_TTL_SECONDS", "5", "STATE_TTL_SECONDS", false},
		{"consent origin with a path", "AMAZON_CONSENT_ORIGIN", "http://127.0.0.1:9000/x", "AMAZON_CONSENT_ORIGIN", false},
		{"no state table", "STATE_TABLE_NAME", "", "STATE_TABLE_NAME", false},
		{"no token table", "TOKEN_TABLE_NAME", "", "TOKEN_TABLE_NAME", true},
		{"no secret", "LWA_CREDENTIALS_SECRET_ID", "", "LWA_CREDENTIALS_SECRET_ID", true},
		{"relative success URL", "SUCCESS_URL", "/done", "SUCCESS_URL", true},
		{"bad token URL", "LWA_TOKEN_URL", "api.amazon.com", "LWA_TOKEN_URL", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			env[tc.key] = tc.value
			r := fn.Runtime{Getenv: func(k string) string { return env[k] }, AWS: aws.Config{Region: "us-east-1"}, Log: slog.Default()}
			var err error
			if tc.callback {
				_, err = callbackfn.New(r)
			} else {
				_, err = authorizefn.New(r)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one naming %q", err, tc.want)
			}
			// The rotate-secret function reads the same two LWA variables.
			if tc.key == "LWA_TOKEN_URL" || tc.key == "LWA_CREDENTIALS_SECRET_ID" {
				if _, err := rotatesecretfn.New(r); err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("rotate: error %v, want one naming %q", err, tc.want)
				}
			}
		})
	}
}
