package devstack

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// EnvVar is one variable of the stack's environment.
type EnvVar struct{ Name, Value string }

// Env is what a developer's own code (a script, a test, the operator's CLI, an app's backend)
// needs to reach the running stack, in the names the AWS SDKs and the functions read. The
// credentials are the dev key of the backend API: moto takes any key into the same account, so
// one set of credentials reaches both the local AWS and the API's IAM authorizer, and it is
// fixed and public, accepted nowhere else.
func (s *Stack) Env() []EnvVar {
	env := []EnvVar{
		{"AWS_ENDPOINT_URL", aws.ToString(s.AWS.BaseEndpoint)},
		{"AWS_REGION", Region},
		// The older SDKs (boto3, the AWS CLI v1) read only this one.
		{"AWS_DEFAULT_REGION", Region},
		{"AWS_ACCESS_KEY_ID", DevAccessKeyID},
		{"AWS_SECRET_ACCESS_KEY", DevSecretAccessKey},
		{"STATE_TABLE_NAME", s.StateTable},
		{"TOKEN_TABLE_NAME", s.TokenTable},
		{"SESSION_TABLE_NAME", s.SessionTable},
		{"LWA_CREDENTIALS_SECRET_ID", s.LWASecret},
	}
	if s.EventBus != "" {
		env = append(env, EnvVar{"EVENT_BUS_NAME", s.EventBus})
	}
	return append(env,
		EnvVar{"SELLERAUTH_API_URL", s.URL},
		EnvVar{"SELLERAUTH_SANDBOX_URL", s.SandboxURL},
		EnvVar{"SELLERAUTH_DEMO_URL", s.DemoURL},
	)
}

// Exports is Env as sh lines, "export NAME=value", to paste into a shell or to source.
func (s *Stack) Exports() string {
	var b strings.Builder
	for _, v := range s.Env() {
		fmt.Fprintf(&b, "export %s=%s\n", v.Name, shellQuote(v.Value))
	}
	return b.String()
}

// shellSafe are the values sh takes as they are.
var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

func shellQuote(v string) string {
	if shellSafe.MatchString(v) {
		return v
	}
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}

// writeEnvFile writes Exports to path, through a temporary file so that a shell sourcing it never
// reads half of it, and remembers it for Close.
func (s *Stack) writeEnvFile(path string) error {
	content := []byte("# The running dev stack's environment (make dev), for sh: source this file.\n" +
		"# It is removed when the stack stops.\n" + s.Exports())
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("env file: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".env-*")
	if err != nil {
		return fmt.Errorf("env file: %w", err)
	}
	_, err = tmp.Write(content)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("env file: %w", err)
	}
	s.EnvFile, s.envContent = path, content
	return nil
}

// removeEnvFile removes the env file, unless another stack has written its own there since.
func (s *Stack) removeEnvFile() {
	if s.EnvFile == "" {
		return
	}
	if b, err := os.ReadFile(s.EnvFile); err == nil && bytes.Equal(b, s.envContent) {
		os.Remove(s.EnvFile)
	}
	s.EnvFile, s.envContent = "", nil
}
