package devstack

import (
	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// TestEnvFileIsSourced: sh reads back from the env file exactly the stack's Env, a value that
// needs quoting included; Close's removal leaves alone a file another stack has rewritten.
func TestEnvFileIsSourced(t *testing.T) {
	s := &Stack{
		URL: "http://127.0.0.1:3000", SandboxURL: "http://127.0.0.1:3001", DemoURL: "http://127.0.0.1:3002",
		AWS:        aws.Config{BaseEndpoint: aws.String("http://127.0.0.1:41234")},
		StateTable: "state", TokenTable: "token", SessionTable: "session", LWASecret: "arn:aws:secretsmanager:us-east-1:123456789012:secret:lwa",
		EventBus: "it's a bus; $(exit 1) `x`",
	}
	path := filepath.Join(t.TempDir(), ".dev", "env")
	if err := s.writeEnvFile(path); err != nil {
		t.Fatal(err)
	}
	if s.EnvFile != path {
		t.Errorf("EnvFile = %q, want %q", s.EnvFile, path)
	}
	out, err := exec.Command("sh", "-c", `. "$1" && env`, "sh", path).Output()
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if name, value, ok := strings.Cut(sc.Text(), "="); ok {
			env[name] = value
		}
	}
	names := map[string]bool{}
	for _, v := range s.Env() {
		names[v.Name] = true
		if env[v.Name] != v.Value {
			t.Errorf("sourced %s = %q, want %q", v.Name, env[v.Name], v.Value)
		}
	}
	for _, name := range []string{"AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"STATE_TABLE_NAME", "TOKEN_TABLE_NAME", "SESSION_TABLE_NAME", "LWA_CREDENTIALS_SECRET_ID", "SELLERAUTH_API_URL", "SELLERAUTH_SANDBOX_URL"} {
		if !names[name] {
			t.Errorf("the env lacks %s", name)
		}
	}

	s.removeEnvFile()
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the env file is still there: %v", err)
	}
	if err := s.writeEnvFile(path); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("export AWS_ENDPOINT_URL=http://127.0.0.1:1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.removeEnvFile()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("another stack's env file was removed: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("files left next to the env file: %v", entries)
	}
}
