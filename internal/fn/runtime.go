package fn

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
)

// Runtime is what a function's main hands over: its environment, the AWS configuration and the
// logger. Tests and the local stack also set the clock and the HTTP client for Login with Amazon.
type Runtime struct {
	Getenv Getenv
	AWS    aws.Config
	Log    *slog.Logger
	// Now defaults to time.Now.
	Now func() time.Time
	// LWAHTTPClient, for the functions that call Login with Amazon, defaults to lwa.New's client
	// (with a timeout and keep-alive).
	LWAHTTPClient *http.Client
}

// Clock is the runtime's clock: Now, or time.Now.
func (r Runtime) Clock() func() time.Time {
	if r.Now != nil {
		return r.Now
	}
	return time.Now
}

// Start is where every function's main begins: the JSON logger that adds Lambda's request ID to
// each line, and the AWS configuration from the environment. It makes no network call; if the
// environment is unusable the function fails its init with a log line that says why.
func Start() Runtime {
	log := lambdacontext.NewLogger()
	cfg, err := LoadAWSConfig(context.Background())
	r := Runtime{Getenv: os.Getenv, AWS: cfg, Log: log}
	if err != nil {
		r.Fail(err)
	}
	return r
}

// Fail logs why the function cannot start and ends the process: Lambda reports an init error
// and CloudWatch keeps the reason.
func (r Runtime) Fail(err error) {
	r.Log.Error("start-up failed", "error", err)
	os.Exit(1)
}
