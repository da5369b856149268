// Command devstack is `make dev`: the whole system on loopback, with the sandbox Amazon, every
// function's real bootstrap under the Lambda Runtime Interface Emulator and a local API Gateway.
// Ctrl-C stops everything it started.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sellerauth/sellerauth/internal/devstack"
)

func main() {
	var cfg devstack.Config
	flag.IntVar(&cfg.GatewayPort, "port", 3000, "loopback port of the local API Gateway (0: any free port)")
	flag.IntVar(&cfg.SandboxPort, "sandbox-port", 3001, "loopback port of the sandbox Amazon (0: any free port)")
	flag.DurationVar(&cfg.RefreshEvery, "refresh-every", time.Minute, "the refresh function's schedule in dev (template.yaml: every 5 minutes); 0 turns it off")
	flag.DurationVar(&cfg.AccessTokenTTL, "access-token-ttl", time.Hour, "lifetime of the sandbox's access tokens")
	confirm := flag.Duration("invalid-grant-confirm", 2*time.Minute, "dev value of INVALID_GRANT_CONFIRM_SECONDS (production: 1 hour)")
	raw := flag.Bool("raw-logs", false, "print the functions' JSON log lines as they are")
	flag.Parse()

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
	logs.Printf("status page (sellers, tokens' freshness, run refresh): %s/_dev/   sandbox admin (revoke, rotate the client secret): %s/sandbox/admin", st.URL, st.SandboxURL)
	fmt.Printf("\n    Open %s/\n\n    Ctrl-C stops everything.\n\n", st.URL)
	<-ctx.Done()
	logs.Printf("stopping")
	st.Close()
	logs.Printf("stopped")
}
