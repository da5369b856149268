package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sellerauth/sellerauth/internal/devstack"
)

// TestBannerTellsTheEnvironment: the banner prints every variable of the stack's environment as a
// line to paste, and how to source the env file, relative to where make dev runs.
func TestBannerTellsTheEnvironment(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	st := &devstack.Stack{
		URL: "http://127.0.0.1:3000", SandboxURL: "http://127.0.0.1:3001", DemoURL: "http://127.0.0.1:3002",
		AWS:        aws.Config{BaseEndpoint: aws.String("http://127.0.0.1:41234")},
		StateTable: "sellerauth-dev-StateTable-x", TokenTable: "sellerauth-dev-TokenTable-x", SessionTable: "sellerauth-dev-SessionTable-x",
		LWASecret: "arn:aws:secretsmanager:us-east-1:123456789012:secret:sellerauth-dev-lwa-x", EventBus: "default",
		EnvFile: filepath.Join(wd, ".dev", "env"),
	}
	b := banner(st)
	for _, want := range []string{
		"      export AWS_ENDPOINT_URL=http://127.0.0.1:41234\n",
		"      export AWS_REGION=us-east-1\n",
		"      export AWS_ACCESS_KEY_ID=" + devstack.DevAccessKeyID + "\n",
		"      export AWS_SECRET_ACCESS_KEY=" + devstack.DevSecretAccessKey + "\n",
		"      export STATE_TABLE_NAME=sellerauth-dev-StateTable-x\n",
		"      export TOKEN_TABLE_NAME=sellerauth-dev-TokenTable-x\n",
		"      export SESSION_TABLE_NAME=sellerauth-dev-SessionTable-x\n",
		"      export LWA_CREDENTIALS_SECRET_ID=arn:aws:secretsmanager:us-east-1:123456789012:secret:sellerauth-dev-lwa-x\n",
		"      export SELLERAUTH_API_URL=http://127.0.0.1:3000\n",
		"      export SELLERAUTH_SANDBOX_URL=http://127.0.0.1:3001\n",
		"source .dev/env (. .dev/env)",
	} {
		if !strings.Contains(b, want) {
			t.Errorf("the banner lacks %q:\n%s", want, b)
		}
	}
	if n := strings.Count(b, "export "); n != len(st.Env()) {
		t.Errorf("%d export lines for %d variables:\n%s", n, len(st.Env()), b)
	}
}

func TestDisplayPath(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		filepath.Join(wd, ".dev", "env"):       ".dev/env",
		filepath.Join(wd, "env"):               "./env",
		filepath.Join(filepath.Dir(wd), "env"): filepath.Join(filepath.Dir(wd), "env"),
	} {
		if got := displayPath(path); got != want {
			t.Errorf("displayPath(%s) = %s, want %s", path, got, want)
		}
	}
}
