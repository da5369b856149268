package awstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Region is the region every test configuration uses; moto keeps separate state per region.
const Region = "us-east-1"

// Env is a running moto_server and clients configured for it.
type Env struct {
	// Endpoint is moto's base URL, e.g. http://127.0.0.1:40123.
	Endpoint string
	// Config reaches moto with fake static credentials and quick retries. Copy it (Config.Copy)
	// before adding API options, e.g. with CountCalls.
	Config         aws.Config
	DynamoDB       *dynamodb.Client
	SecretsManager *secretsmanager.Client

	srv         *server
	unreachable net.Listener
	own         bool // started by StartOwn for one test, not shared
}

var shared struct {
	once sync.Once
	env  *Env
	err  error
}

// Start returns the moto_server of this test binary, starting it on first use; every test of the
// binary shares it, which keeps a package's run to one moto start-up (about a second). Tests stay
// isolated by creating their own tables and secrets with CreateTables and CreateSecret. A missing
// moto_server fails the test, it never skips. The server is stopped by Main, or on Linux by the
// kernel when the test binary exits.
func Start(tb testing.TB) *Env {
	tb.Helper()
	shared.once.Do(func() { shared.env, shared.err = newEnv() })
	if shared.err != nil {
		tb.Fatal(shared.err)
	}
	return shared.env
}

// Main runs the tests and then stops the shared moto_server, if a test started one. Use it as
//
//	func TestMain(m *testing.M) { os.Exit(awstest.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	if shared.env != nil {
		shared.env.close()
	}
	return code
}

func newEnv() (*Env, error) {
	srv, err := startServer()
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.stop()
		return nil, err
	}
	go refuseAll(l)
	return newEnvOn(srv, l), nil
}

func newEnvOn(srv *server, l net.Listener) *Env {
	cfg := config(srv.endpoint)
	return &Env{
		Endpoint:       srv.endpoint,
		Config:         cfg,
		DynamoDB:       dynamodb.NewFromConfig(cfg),
		SecretsManager: secretsmanager.NewFromConfig(cfg),
		srv:            srv,
		unreachable:    l,
	}
}

func (e *Env) close() {
	e.unreachable.Close()
	e.srv.stop()
}

func config(endpoint string) aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(endpoint),
		Retryer: func() aws.Retryer {
			// moto does not throttle; a retry only hides a flaky local socket, so keep it quick.
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 3
				o.MaxBackoff = 20 * time.Millisecond
			})
		},
	}
}

// Unreachable returns a configuration for an AWS that is down: every connection is closed as soon
// as it is accepted, and retries are off, so a call fails at once with a transport error. It is a
// listener of ours rather than a closed port so that no other process can take the port and answer.
func (e *Env) Unreachable() aws.Config {
	cfg := config("http://" + e.unreachable.Addr().String())
	cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	return cfg
}

func refuseAll(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		c.Close()
	}
}

var sequence atomic.Uint64

// uniqueName gives every table and secret of every test its own name, so that tests may run in
// parallel against one moto and never see each other's data.
func uniqueName(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	n := sequence.Add(1)
	return prefix + "-" + hex.EncodeToString(b) + "-" + strconv.FormatUint(n, 10)
}

// cleanupContext is for tb.Cleanup functions: tb.Context is already cancelled when they run.
func cleanupContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 10*time.Second)
}
