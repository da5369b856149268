// Command devstack is `make dev`: the whole system on loopback, with the sandbox Amazon, every
// function's real bootstrap under the Lambda Runtime Interface Emulator, a local API Gateway
// (the backend API behind a local IAM authorizer) and a demo app whose users connect their
// Amazon accounts through connect sessions. Once the stack runs it prints, and writes to .dev/env
// for developers to source, the environment their own code needs to reach it. moto_server's log of
// each request is left out unless -verbose. Ctrl-C stops everything it started.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sellerauth/sellerauth/internal/devstack"
	"github.com/sellerauth/sellerauth/internal/sandbox"
)

// envFile is where the stack's environment is written for developers to source, relative to the
// repository root (git ignores it).
const envFile = ".dev/env"

func main() {
	var cfg devstack.Config
	flag.IntVar(&cfg.GatewayPort, "port", 3000, "loopback port of the local API Gateway (0: any free port)")
	flag.IntVar(&cfg.SandboxPort, "sandbox-port", 3001, "loopback port of the sandbox Amazon (0: any free port)")
	flag.IntVar(&cfg.DemoPort, "demo-port", 3002, "loopback port of the demo app, \"your app\" (0: any free port)")
	flag.BoolVar(&cfg.Anonymous, "anonymous", false, "AnonymousAuthorizations=true: serve the public landing page and /authorize, and take Appstore-started flows without the app's sign-in (production default, as here: false)")
	flag.DurationVar(&cfg.RefreshEvery, "refresh-every", time.Minute, "the refresh function's schedule in dev (template.yaml: every 5 minutes); 0 turns it off")
	flag.StringVar(&cfg.EventBusName, "event-bus", "", "the template's EventBusName: the EventBridge bus (in moto) the events function puts lifecycle events on; \"\" keeps the template's default bus")
	flag.DurationVar(&cfg.AccessTokenTTL, "access-token-ttl", time.Hour, "lifetime of the sandbox's access tokens")
	confirm := flag.Duration("invalid-grant-confirm", 2*time.Minute, "dev value of INVALID_GRANT_CONFIRM_SECONDS (production: 1 hour)")
	raw := flag.Bool("raw-logs", false, "print the functions' JSON log lines as they are")
	flag.BoolVar(&cfg.Verbose, "verbose", false, "also print moto_server's log of every request (make dev VERBOSE=1)")
	flag.Parse()
	cfg.EnvFile = envFile

	logs := devstack.NewLogs(os.Stdout)
	logs.Raw = *raw
	cfg.Logs = logs
	cfg.ExtraEnv = map[string]string{"INVALID_GRANT_CONFIRM_SECONDS": fmt.Sprint(int(confirm.Seconds()))}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := devstack.Start(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		os.Exit(1)
	}
	fmt.Print(banner(st))
	<-ctx.Done()
	logs.Printf("stopping")
	st.Close()
	logs.Printf("stopped")
}

// banner is what make dev prints once the stack runs: the demo app first (where a developer
// starts), then the other pages, and the backend API with its dev credentials and a curl line.
// The credentials are the stack's fixed, public dev key, accepted nowhere else.
func banner(st *devstack.Stack) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n    Open %s/   the demo app (\"your app\"): sign in as alice or bob, Connect Amazon\n\n", st.DemoURL)
	if st.Anonymous {
		fmt.Fprintf(&b, "    Landing page (anonymous authorizations):   %s/\n", st.URL)
	}
	fmt.Fprintf(&b, "    Sandbox Appstore (Appstore-started flow):  %s%s\n", st.SandboxURL, sandbox.AppstorePath)
	fmt.Fprintf(&b, "    Status page (sellers, app users, events):  %s/_dev/\n", st.URL)
	fmt.Fprintf(&b, "    Sandbox admin (revoke, rotate the secret): %s%s\n\n", st.SandboxURL, sandbox.AdminPath)
	if st.EventBus != "" {
		fmt.Fprintf(&b, "    Lifecycle events: the events function reads the tables' streams and puts them on EventBridge bus %s;\n", st.EventBus)
		fmt.Fprintf(&b, "      the stack's rule delivers them to a queue it reads: the status page and the demo app show them (%s/_dev/events)\n\n", st.URL)
	}
	fmt.Fprintf(&b, "    Backend API (SigV4, IAM authorizer): %s   region %s, service execute-api\n", st.URL, devstack.Region)
	fmt.Fprintf(&b, "      dev credentials: access key %s, secret %s (%s)\n", devstack.DevAccessKeyID, devstack.DevSecretAccessKey, devstack.DevUserARN)
	sig := fmt.Sprintf("curl --aws-sigv4 \"aws:amz:%s:execute-api\" --user %s:%s", devstack.Region, devstack.DevAccessKeyID, devstack.DevSecretAccessKey)
	fmt.Fprintf(&b, "      %s -H 'Content-Type: application/json' -d '{\"end_user_id\":\"alice\",\"marketplace\":\"DE\"}' %s/connect/sessions\n", sig, st.URL)
	fmt.Fprintf(&b, "      %s '%s/connections?end_user_id=alice'\n", sig, st.URL)
	how := "paste these lines"
	if st.EnvFile != "" {
		how = fmt.Sprintf("source %s (. %[1]s) or paste these lines", displayPath(st.EnvFile))
	}
	fmt.Fprintf(&b, "\n    Your own code against this stack: %s\n", how)
	fmt.Fprintf(&b, "    (the credentials are the backend API's dev key above; moto takes any key):\n")
	for _, line := range strings.SplitAfter(st.Exports(), "\n") {
		if line != "" {
			b.WriteString("      " + line)
		}
	}
	fmt.Fprintf(&b, "\n    Operator's CLI (docs/operations.md), with them set: go run ./cmd/sellerauth connections\n")
	b.WriteString("\n    Ctrl-C stops everything.\n\n")
	return b.String()
}

// displayPath is path relative to the working directory (make dev's is the repository root) when
// it is below it, so that the printed command is short and works where it is printed.
func displayPath(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	rel, err := filepath.Rel(wd, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return path
	}
	if !strings.Contains(rel, "/") {
		rel = "./" + rel // without a slash, sh's . would look the name up in PATH
	}
	return rel
}
