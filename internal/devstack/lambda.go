package devstack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/sellerauth/sellerauth/internal/samtemplate"
)

// lambdaFunc is one function's bootstrap running under the Runtime Interface Emulator.
type lambdaFunc struct {
	samtemplate.Function
	name string // short name for log prefixes: "authorize"
	url  string
	proc *process
	// mu serialises invocations: one execution environment handles one event at a time.
	mu sync.Mutex
}

// startLambda runs rie with bootstrap on a free loopback port. env is the whole environment of
// the function: nothing of the caller's leaks in (no credentials of the developer's own).
func startLambda(rie, bootstrap string, f samtemplate.Function, name string, env map[string]string, logs *Logs) (*lambdaFunc, error) {
	port, err := freePort("127.0.0.1")
	if err != nil {
		return nil, err
	}
	apiPort, err := freePort("127.0.0.1")
	if err != nil {
		return nil, err
	}
	lf := &lambdaFunc{Function: f, name: name, url: "http://127.0.0.1:" + strconv.Itoa(port)}
	cmd := exec.Command(rie,
		"--runtime-interface-emulator-address", "127.0.0.1:"+strconv.Itoa(port),
		"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(apiPort),
		"--log-level", "error",
		bootstrap)
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cmd.Env = append(cmd.Env, k+"="+env[k])
	}
	lf.proc, err = startProcess(name, cmd, logs)
	if err != nil {
		return nil, err
	}
	if err := waitHTTP(lf.url+"/", 10*time.Second); err != nil {
		lf.proc.stop(time.Second)
		return nil, fmt.Errorf("%s: runtime interface emulator did not start: %w", name, err)
	}
	return lf, nil
}

// FunctionError is an invocation whose handler returned an error or panicked.
type FunctionError struct {
	Function, Type, Message string
}

func (e *FunctionError) Error() string {
	return fmt.Sprintf("%s: %s: %s", e.Function, e.Type, e.Message)
}

// invoke sends event and returns the function's answer.
func (lf *lambdaFunc) invoke(ctx context.Context, event []byte) ([]byte, error) {
	lf.mu.Lock()
	defer lf.mu.Unlock()
	timeout := time.Duration(lf.Timeout)*time.Second + 5*time.Second
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, lf.url+"/2015-03-31/functions/function/invocations", bytes.NewReader(event))
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", lf.name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", lf.name, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("invoke %s: RIE answered %d: %s", lf.name, resp.StatusCode, bytes.TrimSpace(body))
	}
	var fe struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}
	if json.Unmarshal(body, &fe) == nil && fe.ErrorType != "" {
		return body, &FunctionError{Function: lf.name, Type: fe.ErrorType, Message: fe.ErrorMessage}
	}
	return body, nil
}

func waitHTTP(url string, within time.Duration) error {
	deadline := time.Now().Add(within)
	c := &http.Client{Timeout: time.Second}
	for {
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}
