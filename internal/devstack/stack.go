package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sellerauth/sellerauth/connect"
	"github.com/sellerauth/sellerauth/internal/demoapp"
	"github.com/sellerauth/sellerauth/internal/samtemplate"
	"github.com/sellerauth/sellerauth/internal/sandbox"
)

// The sandbox app's identity and LWA credentials: fake, and only the sandbox accepts them.
const (
	ApplicationID   = "amzn1.sp.solution.00000000-0000-0000-0000-00000000dev0"
	LWAClientID     = "amzn1.application-oa2-client.devstack"
	LWAClientSecret = "devstack-client-secret"
	Region          = "us-east-1"
)

// Config says how to start the stack.
type Config struct {
	// Root is the repository root (template.yaml, Makefile); "" finds it from the working directory.
	Root string
	// GatewayPort, SandboxPort and DemoPort (the demo app) are loopback ports; 0 picks free ones.
	GatewayPort, SandboxPort, DemoPort int
	// Anonymous is the template's AnonymousAuthorizations: true keeps the public landing page,
	// /authorize and the Appstore flow without the app's sign-in. false, as in production by
	// default, makes every authorization start from a connect session of the app's backend (the
	// demo app), and sends an Appstore-started one to the demo app's sign-in page.
	Anonymous bool
	// BuildDir receives the bootstraps and the emulator; "" means Root/.build/dev.
	BuildDir string
	// Prebuilt starts from what Build put into BuildDir instead of building again.
	Prebuilt bool
	// RefreshEvery replaces the refresh function's schedule; 0 means no schedule (RunRefresh only).
	RefreshEvery time.Duration
	// AccessTokenTTL is the sandbox's access token lifetime; 0 means one hour, as at Amazon.
	AccessTokenTTL time.Duration
	// EventBusName is the template's EventBusName, the bus the events function puts lifecycle
	// events on; "" keeps the template's default (the account's default bus).
	EventBusName string
	// ExtraEnv is added to every function's environment, e.g. INVALID_GRANT_CONFIRM_SECONDS.
	ExtraEnv map[string]string
	// Verbose logs every line of moto_server, its log of each request included; by default that
	// log is left out (the pollers ask several times a second) and its other lines stay.
	Verbose bool
	// EnvFile, when set, is where Start writes Exports, the stack's environment for a developer's
	// own code, as sh lines (relative to Root); Close removes it.
	EnvFile string
	// Logs receives every component's lines.
	Logs *Logs
}

// Stack is the running local system.
type Stack struct {
	// URL is the local API Gateway: the landing page.
	URL string
	// SandboxURL is the sandbox Amazon (consent pages, LWA token endpoint, admin page).
	SandboxURL string
	// DemoURL is the demo app ("your app"): its users connect their Amazon accounts through the
	// backend API.
	DemoURL string
	// Anonymous is Config.Anonymous: whether the landing page and /authorize are served.
	Anonymous bool
	// AWS is a configuration for the local AWS.
	AWS          aws.Config
	StateTable   string
	TokenTable   string
	SessionTable string
	// LWASecret is the ARN of the secret with the LWA client credentials the functions read.
	LWASecret string
	// EventBus is the EventBridge bus the events function puts lifecycle events on ("" when no
	// function of the template has EVENT_BUS_NAME).
	EventBus string
	Sandbox  *sandbox.Sandbox
	// EnvFile is the file holding Exports (Config.EnvFile, made absolute), "" when none.
	EnvFile string

	logs      *Logs
	moto      *process
	funcs     map[string]*lambdaFunc
	servers   []*http.Server
	stopTimer chan struct{}
	timerDone chan struct{}
	// queues are template.yaml's queues by logical ID; notifications is the one Amazon sends
	// SP-API notifications to (set once the local AWS has it).
	queues        map[string]*localQueue
	notifications atomic.Pointer[notificationTarget]
	stopPolling   context.CancelFunc
	polling       sync.WaitGroup
	// streamARNs are the tables' stream ARNs by logical ID; events the lifecycle events the
	// stack's EventBridge rule delivered.
	streamARNs map[string]string
	events     eventLog
	// suffix makes the names of the stack's resources in the local AWS its own.
	suffix string
	// envContent is what Start wrote to EnvFile, which Close removes unless it has changed since.
	envContent []byte
}

// Start builds every function of template.yaml with the Makefile's targets (unless cfg.Prebuilt)
// and starts the stack, step by step in the order each needs the one before. On error everything
// already started is stopped.
func Start(ctx context.Context, cfg Config) (_ *Stack, err error) {
	if cfg, err = cfg.withDefaults(); err != nil {
		return nil, err
	}
	tpl, err := samtemplate.Load(filepath.Join(cfg.Root, "template.yaml"))
	if err != nil {
		return nil, err
	}
	s := &Stack{logs: cfg.Logs, funcs: map[string]*lambdaFunc{}, Anonymous: cfg.Anonymous}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	// Listeners first, so that every URL is known before anything is configured with it.
	l, err := s.listen(cfg)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			l.close()
		}
	}()
	s.serveSandbox(cfg, l.sandbox)
	if !cfg.Prebuilt {
		if err := build(ctx, cfg, tpl); err != nil {
			return nil, err
		}
	}
	if err := s.startAWS(cfg.Verbose); err != nil {
		return nil, err
	}
	resources, err := s.createResources(ctx, tpl)
	if err != nil {
		return nil, err
	}
	fns, err := tpl.Functions(s.resolver(cfg, resources))
	if err != nil {
		return nil, err
	}
	lfs, err := s.startFunctions(cfg, fns)
	if err != nil {
		return nil, err
	}
	if err := s.startEventSources(ctx, fns, lfs); err != nil {
		return nil, err
	}
	s.serveGatewayAndDemo(l)
	s.startSchedules(lfs, cfg.RefreshEvery)
	if cfg.EnvFile != "" {
		if err := s.writeEnvFile(cfg.EnvFile); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// listeners are the stack's loopback listeners, open before anything is configured with their URLs.
type listeners struct {
	gateway, sandbox, demo net.Listener
}

// listen opens the listeners and sets the stack's URLs.
func (s *Stack) listen(cfg Config) (*listeners, error) {
	var l listeners
	var err error
	if l.gateway, err = listenLoopback(cfg.GatewayPort); err != nil {
		return nil, fmt.Errorf("local API gateway: %w", err)
	}
	if l.sandbox, err = listenLoopback(cfg.SandboxPort); err != nil {
		l.close()
		return nil, fmt.Errorf("sandbox Amazon: %w", err)
	}
	if l.demo, err = listenLoopback(cfg.DemoPort); err != nil {
		l.close()
		return nil, fmt.Errorf("demo app: %w", err)
	}
	s.URL = "http://" + l.gateway.Addr().String()
	s.SandboxURL = "http://" + l.sandbox.Addr().String()
	s.DemoURL = "http://" + l.demo.Addr().String()
	return &l, nil
}

// close closes the listeners a failed start has not served yet (closing a served one again, which
// Close has shut down, is harmless).
func (l *listeners) close() {
	for _, ln := range []net.Listener{l.gateway, l.sandbox, l.demo} {
		if ln != nil {
			ln.Close()
		}
	}
}

// serveSandbox serves the sandbox Amazon; its SP-API notifications (a rotated client secret) go to
// the template's queue once it exists.
func (s *Stack) serveSandbox(cfg Config, l net.Listener) {
	s.Sandbox = sandbox.New(sandbox.Options{
		ClientID: LWAClientID, ClientSecret: LWAClientSecret, AccessTokenTTL: cfg.AccessTokenTTL,
		Notify: s.sendNotification,
		App: sandbox.App{
			Name: "SP-API seller authorization (dev)", ApplicationID: ApplicationID, Draft: true,
			RedirectURIs: []string{s.URL + "/callback"}, LoginURI: s.URL + "/login",
		},
	})
	s.serve(l, logRequests(s.logs, "sandbox", s.Sandbox.Handler()))
}

// startAWS starts moto_server as the local AWS, or uses the one AWS_ENDPOINT_URL names, and sets
// s.AWS for it.
func (s *Stack) startAWS(verbose bool) error {
	endpoint := os.Getenv("AWS_ENDPOINT_URL")
	if endpoint == "" {
		var err error
		if endpoint, err = s.startMoto(verbose); err != nil {
			return err
		}
	} else {
		s.logs.Printf("using the AWS at AWS_ENDPOINT_URL=%s", endpoint)
	}
	s.AWS = aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider("devstack", "devstack", ""),
		BaseEndpoint: aws.String(endpoint),
	}
	return nil
}

// resolver resolves the template's references for the functions' environment against the local
// resources and the stack's own parameter values.
func (s *Stack) resolver(cfg Config, resources map[string]string) samtemplate.Resolver {
	r := samtemplate.Resolver{
		Region:    Region,
		AccountID: AccountID,
		Resources: resources,
		// AllowedReturnUrls and AppSignInUrl are http on loopback: the functions accept that for
		// loopback hosts, and this resolver, unlike CloudFormation, does not apply the parameters'
		// https-only AllowedPattern. Through the parameters the template still decides which
		// function gets which variable.
		Parameters: map[string]string{
			"ApplicationId":           ApplicationID,
			"AppDraft":                "true",
			"RedirectUri":             s.URL + "/callback",
			"LwaTokenUrl":             s.SandboxURL + sandbox.TokenPath,
			"AnonymousAuthorizations": strconv.FormatBool(cfg.Anonymous),
			"AllowedReturnUrls":       s.DemoURL + "/",
			"AppSignInUrl":            demoapp.SignInURL(s.DemoURL),
		},
	}
	if cfg.EventBusName != "" {
		r.Parameters["EventBusName"] = cfg.EventBusName
	}
	return r
}

// startFunctions starts every function's bootstrap under the emulator, with the template's
// environment and the one Lambda gives, and returns them in the template's order.
func (s *Stack) startFunctions(cfg Config, fns []samtemplate.Function) ([]*lambdaFunc, error) {
	rie := filepath.Join(cfg.BuildDir, "aws-lambda-rie")
	var lfs []*lambdaFunc
	for _, f := range fns {
		env := map[string]string{
			"PATH":                            "/usr/bin:/bin",
			"TZ":                              "UTC",
			"AWS_REGION":                      Region,
			"AWS_DEFAULT_REGION":              Region,
			"AWS_ACCESS_KEY_ID":               "devstack",
			"AWS_SECRET_ACCESS_KEY":           "devstack",
			"AWS_SESSION_TOKEN":               "devstack",
			"AWS_ENDPOINT_URL":                aws.ToString(s.AWS.BaseEndpoint),
			"AWS_LAMBDA_FUNCTION_NAME":        f.LogicalID,
			"AWS_LAMBDA_FUNCTION_TIMEOUT":     strconv.Itoa(f.Timeout),
			"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
			"AWS_LAMBDA_LOG_FORMAT":           "JSON",
			"AWS_LAMBDA_LOG_LEVEL":            "INFO",
			"AMAZON_CONSENT_ORIGIN":           s.SandboxURL,
		}
		maps.Copy(env, f.Env)
		maps.Copy(env, cfg.ExtraEnv)
		lf, err := startLambda(rie, filepath.Join(cfg.BuildDir, f.LogicalID, "bootstrap"), f, shortName(f.LogicalID), env, s.logs)
		if err != nil {
			return nil, err
		}
		s.funcs[f.LogicalID] = lf
		lfs = append(lfs, lf)
	}
	return lfs, nil
}

// startEventSources starts, until Close, Lambda's event source mappings (SQS queues, DynamoDB
// streams) and the consumer of the lifecycle events on the bus the functions put them on.
func (s *Stack) startEventSources(ctx context.Context, fns []samtemplate.Function, lfs []*lambdaFunc) error {
	pollCtx, stopPolling := context.WithCancel(context.Background())
	s.stopPolling = stopPolling
	if err := s.startPollers(pollCtx, lfs); err != nil {
		return err
	}
	var err error
	if s.EventBus, err = eventBusOf(fns); err != nil {
		return err
	}
	if s.EventBus != "" {
		b, err := s.createEventBus(ctx, s.EventBus, s.suffix)
		if err != nil {
			return err
		}
		s.polling.Add(1)
		go func() {
			defer s.polling.Done()
			s.readEvents(pollCtx, b)
		}()
	}
	return s.startStreams(pollCtx, lfs, s.streamARNs)
}

// serveGatewayAndDemo serves the local API Gateway and the demo app, whose backend calls the
// backend API as any app would: through the gateway, with the connect client, signed with the
// dev credentials.
func (s *Stack) serveGatewayAndDemo(l *listeners) {
	gw := newGateway(s.funcs, devVerifier(), s.logs, s.devPages())
	s.serve(l.gateway, logRequests(s.logs, "gateway", gw))
	demo := demoapp.New(demoapp.Options{
		Client: connect.New(DevAWSConfig(), s.URL),
		URL:    s.DemoURL,
		Events: s.Events,
		Logf:   func(format string, args ...any) { s.logs.Line("demo", fmt.Sprintf(format, args...)) },
	})
	s.serve(l.demo, logRequests(s.logs, "demo", demo.Handler()))
}

func listenLoopback(port int) (net.Listener, error) {
	return net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
}

func shortName(logicalID string) string {
	return strings.ToLower(strings.TrimSuffix(logicalID, "Function"))
}

func (s *Stack) serve(l net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.servers = append(s.servers, srv)
	go func() { _ = srv.Serve(l) }()
}

func (cfg Config) withDefaults() (Config, error) {
	if cfg.Logs == nil {
		cfg.Logs = NewLogs(nil)
	}
	if cfg.Root == "" {
		tpl, err := samtemplate.Find()
		if err != nil {
			return cfg, err
		}
		cfg.Root = filepath.Dir(tpl)
	}
	if cfg.BuildDir == "" {
		cfg.BuildDir = filepath.Join(cfg.Root, ".build", "dev")
	}
	if cfg.EnvFile != "" && !filepath.IsAbs(cfg.EnvFile) {
		cfg.EnvFile = filepath.Join(cfg.Root, cfg.EnvFile)
	}
	return cfg, nil
}

// Build does what Start does first: every function of template.yaml and the emulator into
// cfg.BuildDir, so that several stacks (a test's) can start from one build with Prebuilt.
func Build(ctx context.Context, cfg Config) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	tpl, err := samtemplate.Load(filepath.Join(cfg.Root, "template.yaml"))
	if err != nil {
		return err
	}
	return build(ctx, cfg, tpl)
}

// build runs `make build-<LogicalId>` for each function for this machine's architecture, as
// sam build would for the Lambda's, and builds the emulator pinned in go.mod.
func build(ctx context.Context, cfg Config, tpl *samtemplate.Template) error {
	// Only the logical IDs matter here: nothing of the environment exists yet.
	fns, err := tpl.Functions(samtemplate.Resolver{Region: Region, Lenient: true})
	if err != nil {
		return err
	}
	started := time.Now()
	for _, f := range fns {
		cmd := exec.CommandContext(ctx, "make", "--no-print-directory", "-C", cfg.Root, "build-"+f.LogicalID,
			"ARTIFACTS_DIR="+filepath.Join(cfg.BuildDir, f.LogicalID), "GOARCH_LAMBDA="+runtime.GOARCH)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("make build-%s: %w\n%s", f.LogicalID, err, out)
		}
	}
	rie := filepath.Join(cfg.BuildDir, "aws-lambda-rie")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", rie, "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie")
	cmd.Dir = cfg.Root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build the runtime interface emulator: %w\n%s", err, out)
	}
	cfg.Logs.Printf("built %d functions and the runtime interface emulator in %s", len(fns), time.Since(started).Round(100*time.Millisecond))
	return nil
}

func (s *Stack) startMoto(verbose bool) (string, error) {
	path, err := exec.LookPath("moto_server")
	if err != nil {
		return "", errors.New(`moto_server not found: install it with "pip install 'moto[server]'" (or set AWS_ENDPOINT_URL)`)
	}
	port, err := freePort("127.0.0.1")
	if err != nil {
		return "", err
	}
	endpoint := "http://127.0.0.1:" + strconv.Itoa(port)
	s.moto, err = startFilteredProcess("moto", exec.Command(path, "-H", "127.0.0.1", "-p", strconv.Itoa(port)), s.logs, motoLines(verbose))
	if err != nil {
		return "", err
	}
	if err := waitHTTP(endpoint+"/moto-api/", 60*time.Second); err != nil {
		return "", fmt.Errorf("moto_server did not start: %w", err)
	}
	return endpoint, nil
}

// createResources creates template.yaml's tables and queues (from their own definitions) and the
// LWA secret, and returns what the functions' environment may refer to: each resource's physical
// name (or URL, or ARN: what !Ref gives) and attributes as "LogicalID.Attribute".
func (s *Stack) createResources(ctx context.Context, tpl *samtemplate.Template) (map[string]string, error) {
	s.suffix = strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	res, err := s.createTables(ctx, tpl)
	if err != nil {
		return nil, err
	}
	if err := s.createQueues(ctx, tpl, s.suffix); err != nil {
		return nil, err
	}
	var queueNames []string
	for id, q := range s.queues {
		res[id] = q.url // !Ref of a queue is its URL
		res[id+".Arn"] = q.arn
		res[id+".QueueName"] = q.name
		res[id+".QueueUrl"] = q.url
		queueNames = append(queueNames, q.name)
	}
	sort.Strings(queueNames)
	secret, _ := json.Marshal(map[string]string{"client_id": LWAClientID, "client_secret": LWAClientSecret})
	out, err := secretsmanager.NewFromConfig(s.AWS).CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String("sellerauth-dev-lwa-" + s.suffix), SecretString: aws.String(string(secret)),
	})
	if err != nil {
		return nil, fmt.Errorf("create the LWA secret: %w", err)
	}
	s.LWASecret = aws.ToString(out.ARN)
	res["LwaCredentialsSecret"] = s.LWASecret
	// Resources the functions only name (a KMS key, the API): placeholders.
	for _, id := range []string{"TokenTableKey", "HttpApi"} {
		res[id] = "devstack-" + id
	}
	s.logs.Printf("created tables %s, %s, %s, queues %s and the LWA secret from template.yaml", s.StateTable, s.TokenTable, s.SessionTable, strings.Join(queueNames, ", "))
	if t := s.notifications.Load(); t != nil {
		s.logs.Printf("the sandbox sends SP-API notifications to %s (its policy lets Amazon's account %s send)", t.queue.name, samtemplate.AmazonNotificationsAccount)
	}
	return res, nil
}

// createTables creates template.yaml's tables and returns their names by logical ID, and their
// stream ARNs as "LogicalID.StreamArn" (also kept for the functions' DynamoDB events).
func (s *Stack) createTables(ctx context.Context, tpl *samtemplate.Template) (map[string]string, error) {
	tables, err := tpl.Tables()
	if err != nil {
		return nil, err
	}
	db := dynamodb.NewFromConfig(s.AWS)
	res := map[string]string{}
	s.streamARNs = map[string]string{}
	for id, table := range tables {
		name := "sellerauth-dev-" + id + "-" + s.suffix
		if err := table.Create(ctx, db, name); err != nil {
			return nil, err
		}
		res[id] = name
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			return nil, fmt.Errorf("describe table %s: %w", name, err)
		}
		if arn := aws.ToString(out.Table.LatestStreamArn); arn != "" {
			s.streamARNs[id] = arn
			res[id+".StreamArn"] = arn
		}
	}
	s.StateTable, s.TokenTable, s.SessionTable = res["StateTable"], res["TokenTable"], res["SessionTable"]
	return res, nil
}

// ScheduledEvent is the scheduled event of a schedule without an Input (EventBridge's
// "Scheduled Event" shape); a schedule with an Input gets that Input verbatim, as at AWS.
func ScheduledEvent(scheduleName string, now time.Time) []byte {
	b, _ := json.Marshal(map[string]any{
		"version":     "0",
		"id":          randomID(),
		"detail-type": "Scheduled Event",
		"source":      "aws.scheduler",
		"account":     AccountID,
		"time":        now.UTC().Format(time.RFC3339),
		"region":      Region,
		"resources":   []string{"arn:aws:scheduler:" + Region + ":" + AccountID + ":schedule/default/" + scheduleName},
		"detail":      "{}",
	})
	return b
}

// RunSchedules invokes every scheduled function once, as its schedule would, and returns each
// function's answer by logical ID.
func (s *Stack) RunSchedules(ctx context.Context) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	for id, lf := range s.funcs {
		for _, sc := range lf.Schedules {
			event := ScheduledEvent(id+"-"+sc.Name, time.Now())
			if sc.Input != "" {
				event = []byte(sc.Input)
			}
			body, err := lf.invoke(ctx, event)
			if err != nil {
				return out, err
			}
			out[id] = body
		}
	}
	return out, nil
}

// startSchedules runs the scheduled functions every `every` instead of their own schedules (0:
// never, RunSchedules only) until Close.
func (s *Stack) startSchedules(fns []*lambdaFunc, every time.Duration) {
	if every <= 0 || !slices.ContainsFunc(fns, func(lf *lambdaFunc) bool { return len(lf.Schedules) > 0 }) {
		return
	}
	s.stopTimer, s.timerDone = make(chan struct{}), make(chan struct{})
	for _, lf := range fns {
		for _, sc := range lf.Schedules {
			s.logs.Printf("%s: schedule %s %q runs every %s in dev", lf.LogicalID, sc.Name, sc.Expression, every)
		}
	}
	go func() {
		defer close(s.timerDone)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-s.stopTimer:
				return
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
				if _, err := s.RunSchedules(ctx); err != nil {
					s.logs.Printf("scheduled run: %v", err)
				}
				cancel()
			}
		}
	}()
}

// Close stops everything the stack started.
func (s *Stack) Close() {
	if s.stopTimer != nil {
		close(s.stopTimer)
		<-s.timerDone
		s.stopTimer = nil
	}
	if s.stopPolling != nil {
		s.stopPolling()
		s.polling.Wait()
		s.stopPolling = nil
	}
	s.notifications.Store(nil)
	for _, srv := range s.servers {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = srv.Shutdown(ctx)
		cancel()
	}
	s.servers = nil
	for _, lf := range s.funcs {
		lf.proc.stop(2 * time.Second)
	}
	s.funcs = map[string]*lambdaFunc{}
	s.moto.stop(5 * time.Second)
	s.moto = nil
	s.removeEnvFile()
}

func randomID() string { return randomHex(16) }

// logRequests logs each request's method, path (never the query: it carries codes and states) and status.
func logRequests(logs *Logs, name string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: 200}
		h.ServeHTTP(sw, r)
		logs.Line(name, fmt.Sprintf("%s %s -> %d (%s)", r.Method, r.URL.Path, sw.status, time.Since(start).Round(time.Millisecond)))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}
