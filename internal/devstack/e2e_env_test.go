package devstack_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sellerauth/sellerauth/connect"
	"github.com/sellerauth/sellerauth/internal/devstack"
	"github.com/sellerauth/sellerauth/internal/sandbox"
)

// checkEnvFile: the env file Start wrote (make dev's .dev/env) is what a developer's own code needs
// to reach the stack. Sourced by sh, it sets every variable of the stack's Env; with nothing but
// those variables a client finds the stack's real tables, active, in the local AWS, its LWA
// secret, a backend API that takes the credentials, and the sandbox. Close removes the file.
func checkEnvFile(t *testing.T, ctx context.Context, st *devstack.Stack, path string) {
	t.Helper()
	if st.EnvFile != path {
		t.Fatalf("the stack wrote its env file to %q, want %q", st.EnvFile, path)
	}
	t.Cleanup(func() {
		if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the env file is still there after Close: %v", err)
		}
	})
	out, err := exec.Command("sh", "-c", `. "$1" && env`, "sh", path).Output()
	if err != nil {
		t.Fatalf("sh cannot source %s: %v", path, err)
	}
	env := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if name, value, ok := strings.Cut(sc.Text(), "="); ok {
			env[name] = value
		}
	}
	for _, v := range st.Env() {
		if env[v.Name] != v.Value {
			t.Errorf("sourced %s = %q, want %q", v.Name, env[v.Name], v.Value)
		}
	}
	for name, table := range map[string]string{"STATE_TABLE_NAME": st.StateTable, "TOKEN_TABLE_NAME": st.TokenTable, "SESSION_TABLE_NAME": st.SessionTable} {
		if table == "" || env[name] != table {
			t.Errorf("%s = %q, want the stack's table %q", name, env[name], table)
		}
	}

	cfg := aws.Config{
		Region:       env["AWS_REGION"],
		BaseEndpoint: aws.String(env["AWS_ENDPOINT_URL"]),
		Credentials:  credentials.NewStaticCredentialsProvider(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], ""),
	}
	db := dynamodb.NewFromConfig(cfg)
	for _, name := range []string{"STATE_TABLE_NAME", "TOKEN_TABLE_NAME", "SESSION_TABLE_NAME"} {
		d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(env[name])})
		if err != nil {
			t.Errorf("%s=%s: %v", name, env[name], err)
		} else if d.Table.TableStatus != types.TableStatusActive {
			t.Errorf("%s=%s is %s", name, env[name], d.Table.TableStatus)
		}
	}
	if _, err := secretsmanager.NewFromConfig(cfg).DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(env["LWA_CREDENTIALS_SECRET_ID"])}); err != nil {
		t.Errorf("LWA_CREDENTIALS_SECRET_ID=%s: %v", env["LWA_CREDENTIALS_SECRET_ID"], err)
	}
	if _, err := connect.New(cfg, env["SELLERAUTH_API_URL"]).Connections(ctx, "nobody"); err != nil {
		t.Errorf("the backend API at SELLERAUTH_API_URL=%s with the env's credentials: %v", env["SELLERAUTH_API_URL"], err)
	}
	resp, err := http.Get(env["SELLERAUTH_SANDBOX_URL"] + sandbox.AppstorePath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the sandbox's Appstore page at SELLERAUTH_SANDBOX_URL=%s: %d", env["SELLERAUTH_SANDBOX_URL"], resp.StatusCode)
	}
}
