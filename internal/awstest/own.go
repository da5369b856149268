package awstest

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// StartOwn starts a moto_server for this test alone, not the shared one of Start, for a test that
// changes server-wide settings such as IAM enforcement (EnforceIAM). extraEnv ("NAME=value") is
// added to moto's environment. It costs a moto start-up (about a second); the server is stopped
// when the test ends. A missing moto_server fails the test, it never skips.
func StartOwn(tb testing.TB, extraEnv ...string) *Env {
	tb.Helper()
	srv, err := startServerWith(extraEnv)
	if err != nil {
		tb.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.stop()
		tb.Fatal(err)
	}
	go refuseAll(l)
	e := newEnvOn(srv, l)
	e.own = true
	tb.Cleanup(e.close)
	return e
}

// EnforceIAM turns moto's IAM enforcement on or off for the whole server: when on, every request
// of a service moto authorizes (Secrets Manager does; DynamoDB does not) must be signed with an
// access key of an IAM user created through moto's IAM API and be allowed by that user's policies;
// the default credentials of Config are then refused. It is moto's own switch for server mode
// (POST /moto-api/reset-auth, what INITIAL_NO_AUTH_ACTION_COUNT sets at start), so it may only be
// used on a server of StartOwn: on the shared one it would break every other test.
func (e *Env) EnforceIAM(tb testing.TB, on bool) {
	tb.Helper()
	if !e.own {
		tb.Fatal("EnforceIAM on the shared moto_server; use StartOwn")
	}
	count := "inf" // requests allowed before checking: never check
	if on {
		count = "0"
	}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Post(e.Endpoint+"/moto-api/reset-auth", "text/plain", bytes.NewBufferString(count))
	if err != nil {
		tb.Fatalf("set moto's IAM enforcement: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		tb.Fatalf("set moto's IAM enforcement: %s", fmt.Sprint(resp.Status, " ", string(b)))
	}
}
