package amazon

import (
	"strings"
	"testing"
)

func TestCheckApplicationID(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		wantErr string // "" means valid; else a substring of the message
	}{
		{"solution ID", "amzn1.sp.solution.1234abcd-0000-1111-2222-333344445555", ""},
		{"sellerapps ID", "amzn1.sellerapps.app.0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d", ""},
		{"short suffix", "amzn1.sp.solution.x", ""},
		{"LWA client ID", "amzn1.application-oa2-client.0123456789abcdef0123456789abcdef", "LWA client ID"},
		{"LWA client ID upper case", "AMZN1.APPLICATION-OA2-CLIENT.0123456789ABCDEF", "LWA client ID"},
		{"LWA client ID names MD1000", "amzn1.application-oa2-client.abc", "MD1000"},
		{"LWA client ID names the secret", "amzn1.application-oa2-client.abc", "Secrets Manager"},
		{"LWA client secret", "amzn1.oa2-cs.v1.deadbeefdeadbeefdeadbeef", "LWA client secret"},
		{"empty", "", "empty"},
		{"garbage", "hello", "does not start with"},
		{"uuid only", "1234abcd-0000-1111-2222-333344445555", "does not start with"},
		{"prefix only", "amzn1.sp.solution.", "nothing after"},
		{"sellerapps prefix only", "amzn1.sellerapps.app.", "nothing after"},
		{"prefix without dot", "amzn1.sp.solution", "does not start with"},
		{"upper-case solution prefix", "AMZN1.SP.SOLUTION.abc", "does not start with"},
		{"leading space", " amzn1.sp.solution.abc", "does not start with"},
		{"trailing newline", "amzn1.sp.solution.abc\n", "stray space"},
		{"inner space", "amzn1.sp.solution.ab c", "stray space"},
		{"query injection", "amzn1.sp.solution.abc&state=x", "character"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckApplicationID(tc.in)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckApplicationID(%q) = %v, want nil", tc.in, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckApplicationID(%q) = nil, want an error containing %q", tc.in, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q does not contain %q", err, tc.wantErr)
			}
			// The value may be a pasted secret: only the known prefix may appear in the message.
			if len(tc.in) > 30 && strings.Contains(err.Error(), tc.in[len(tc.in)-16:]) {
				t.Errorf("error %q repeats the input", err)
			}
		})
	}
}
