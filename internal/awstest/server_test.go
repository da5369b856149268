package awstest

import "testing"

// A missing moto_server must fail the run with the install command, never skip.
func TestMissingMotoServer(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := startServer()
	if err == nil || err.Error() != installHint {
		t.Fatalf("err = %v, want %q", err, installHint)
	}
}
