// Command coldstart is make bench-coldstart: it builds every function of template.yaml with the
// Makefile's targets (for this machine's architecture) and a hello-world Go Lambda with the same
// flags, starts each one cold under the Lambda Runtime Interface Emulator many times, interleaved,
// and prints each function's median init duration (the emulator's INIT REPORT) as a ratio to
// hello world's, with the first (cold) invocation's duration next to a warm one's.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sellerauth/sellerauth/internal/devstack"
	"github.com/sellerauth/sellerauth/internal/samtemplate"
)

const hello = "HelloWorld"

func main() {
	runs := flag.Int("runs", 15, "cold starts of each function (at least 15)")
	flag.Parse()
	if err := run(*runs); err != nil {
		fmt.Fprintln(os.Stderr, "coldstart:", err)
		os.Exit(1)
	}
}

type subject struct {
	name      string
	bootstrap string
	env       []string
	event     []byte
	inits     []float64 // INIT REPORT durationMs
	cold      []float64 // first invocation (INVOKE RTDONE duration)
	warm      []float64 // second invocation
	size      int64
}

func run(runs int) error {
	path, err := samtemplate.Find()
	if err != nil {
		return err
	}
	tpl, err := samtemplate.Load(path)
	if err != nil {
		return err
	}
	root := filepath.Dir(path)
	dir, err := os.MkdirTemp("", "coldstart")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fns, err := tpl.Functions(samtemplate.Resolver{Region: devstack.Region, Lenient: true, Parameters: map[string]string{
		"ApplicationId": devstack.ApplicationID, "RedirectUri": "https://example.com/callback",
	}})
	if err != nil {
		return err
	}
	targets := []string{hello}
	for _, f := range fns {
		targets = append(targets, f.LogicalID)
	}
	var subjects []*subject
	for _, t := range targets {
		s, err := build(root, dir, t, fns)
		if err != nil {
			return err
		}
		subjects = append(subjects, s)
	}
	rie := filepath.Join(dir, "aws-lambda-rie")
	cmd := exec.Command("go", "build", "-o", rie, "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build the emulator: %w\n%s", err, b)
	}

	fmt.Printf("cold starts under the Lambda Runtime Interface Emulator: %d runs of %d programs, interleaved in random order (%s/%s, %d CPUs)\n",
		runs, len(subjects), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	if err := measure(rie, subjects, runs); err != nil {
		return err
	}
	report(subjects, runs)
	return nil
}

// build builds target t (a function's logical ID, or hello) into dir/t with the Makefile in root,
// and returns it with the environment and the event it is invoked with.
func build(root, dir, t string, fns []samtemplate.Function) (*subject, error) {
	out := filepath.Join(dir, t)
	target := "build-" + t
	if t == hello {
		target = "build-ColdstartHello"
	}
	cmd := exec.Command("make", "--no-print-directory", "-s", "-C", root, target, "ARTIFACTS_DIR="+out, "GOARCH_LAMBDA="+runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("make %s: %w\n%s", target, err, b)
	}
	s := &subject{name: t, bootstrap: filepath.Join(out, "bootstrap")}
	if fi, err := os.Stat(s.bootstrap); err == nil {
		s.size = fi.Size()
	}
	s.env = []string{"PATH=/usr/bin:/bin", "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=bench", "AWS_SECRET_ACCESS_KEY=bench",
		"AWS_SESSION_TOKEN=bench", "AWS_LAMBDA_FUNCTION_NAME=" + t, "AWS_LAMBDA_LOG_FORMAT=JSON",
		// Nothing may talk to the network during init; an invocation that does gets a refused connection.
		"AWS_ENDPOINT_URL=http://127.0.0.1:9", "AWS_MAX_ATTEMPTS=1"}
	s.event = []byte(`{}`)
	for _, f := range fns {
		if f.LogicalID != t {
			continue
		}
		for k, v := range f.Env {
			if v == "" {
				v = "bench"
			}
			s.env = append(s.env, k+"="+v)
		}
		if len(f.Routes) > 0 {
			s.event = apiEvent(benchRoute(f.Routes))
		}
	}
	return s, nil
}

// measure starts every subject cold runs times (plus one uncounted round first), in a new random
// order each round, so that a slow moment of the machine is spread over all of them.
func measure(rie string, subjects []*subject, runs int) error {
	for i := range runs + 1 {
		order := slices.Clone(subjects)
		rand.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		for _, s := range order {
			init, cold, warm, err := once(rie, s)
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			if i == 0 {
				continue // warm-up of the page cache, not counted
			}
			s.inits, s.cold, s.warm = append(s.inits, init), append(s.cold, cold), append(s.warm, warm)
		}
	}
	return nil
}

// report prints each subject's figures and its init's ratio to hello world's, the first subject.
func report(subjects []*subject, runs int) {
	base := median(subjects[0].inits)
	fmt.Printf("\n%-22s %9s %8s %8s %8s %14s %14s %9s\n", "function", "init ms", "ratio", "min", "max", "cold invoke ms", "warm invoke ms", "size KiB")
	worst := 0.0
	for _, s := range subjects {
		r := median(s.inits) / base
		if s.name != hello {
			worst = max(worst, r)
		}
		fmt.Printf("%-22s %9.2f %7.2fx %8.2f %8.2f %14.2f %14.2f %9d\n", s.name, median(s.inits), r,
			slices.Min(s.inits), slices.Max(s.inits), median(s.cold), median(s.warm), s.size/1024)
	}
	verdict := "within"
	if worst > 1.6 {
		verdict = "ABOVE"
	}
	fmt.Printf("\nmedians of %d cold starts each; init = INIT REPORT durationMs; invoke = INVOKE RTDONE duration of the first (cold) and second (warm) invocation.\n", runs)
	fmt.Printf("worst function: %.2fx hello world (%s the 1.6x target)\n", worst, verdict)
}

// benchRoute is the route a function is invoked on: one it answers without any AWS call (the
// bench's AWS endpoint is unreachable). The first route with no query gets a page or a 400; a
// backend API function (IAM-authorized routes) gets a signed-in read of a session ID that cannot
// exist, which it refuses with 404 before any storage call, past the authorizer check and the
// routing a real request takes.
func benchRoute(routes []samtemplate.Route) samtemplate.Route {
	for _, r := range routes {
		if r.IAM && r.Method == "GET" && strings.Contains(r.Path, "{") {
			return r
		}
	}
	return routes[0]
}

// benchSessionID is no session ID the API could have issued.
const benchSessionID = "bad-id"

func apiEvent(r samtemplate.Route) []byte {
	path, params, authorizer := r.Path, "null", ""
	if i, j := strings.Index(r.Path, "{"), strings.Index(r.Path, "}"); i >= 0 && j > i {
		path = r.Path[:i] + benchSessionID + r.Path[j+1:]
		params = fmt.Sprintf(`{%q:%q}`, r.Path[i+1:j], benchSessionID)
	}
	if r.IAM {
		// What API Gateway's IAM authorizer adds to a signed request.
		authorizer = `,"authorizer":{"iam":{"accessKey":"AKIDBENCH","accountId":"123456789012","callerId":"AIDABENCH",` +
			`"principalOrgId":"","userArn":"arn:aws:iam::123456789012:user/bench","userId":"AIDABENCH"}}`
	}
	return []byte(fmt.Sprintf(`{"version":"2.0","routeKey":%q,"rawPath":%q,"rawQueryString":"","headers":{"accept":"text/html"},"pathParameters":%s,`+
		`"requestContext":{"http":{"method":%q,"path":%q,"sourceIp":"127.0.0.1","userAgent":"bench"},"requestId":"bench","stage":"$default","timeEpoch":%d%s}}`,
		r.Key(), path, params, r.Method, path, time.Now().UnixMilli(), authorizer))
}

var (
	initRe   = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)
	rtdoneRe = regexp.MustCompile(`INVOKE RTDONE\(status: \w+, produced bytes: \d+, duration: ([0-9.]+)ms\)`)
)

// once starts the emulator with s cold, invokes it twice and stops it.
func once(rie string, s *subject) (init, cold, warm float64, err error) {
	port, apiPort := freePort(), freePort()
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", "127.0.0.1:"+strconv.Itoa(port),
		"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(apiPort), "--log-level", "info", s.bootstrap)
	cmd.Env = s.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return 0, 0, 0, err
	}
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	}()
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/2015-03-31/functions/function/invocations"
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			return 0, 0, 0, fmt.Errorf("emulator did not start: %s", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	for range 2 {
		resp, err := http.Post(url, "application/json", bytes.NewReader(s.event))
		if err != nil {
			return 0, 0, 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	time.Sleep(20 * time.Millisecond) // the emulator's log lines trail the answer
	var rtdone []float64
	sc := bufio.NewScanner(strings.NewReader(out.String()))
	for sc.Scan() {
		if m := initRe.FindStringSubmatch(sc.Text()); m != nil {
			init, _ = strconv.ParseFloat(m[1], 64)
		}
		if m := rtdoneRe.FindStringSubmatch(sc.Text()); m != nil {
			v, _ := strconv.ParseFloat(m[1], 64)
			rtdone = append(rtdone, v)
		}
	}
	if init == 0 || len(rtdone) < 2 {
		return 0, 0, 0, fmt.Errorf("no INIT REPORT or INVOKE RTDONE lines in the emulator's output:\n%s", out.String())
	}
	return init, rtdone[0], rtdone[1], nil
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
