package awstest

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"time"
)

// installHint is the whole failure message when moto_server is missing: the suite must fail loudly
// rather than skip, so that a green run always means the AWS-facing code was exercised.
const installHint = `moto_server not found: install it with "pip install 'moto[server]'"`

const (
	startAttempts = 5                // a free port can be taken between our probe and moto's bind
	readyTimeout  = 60 * time.Second // moto imports a lot of Python on start; a cold cache is slow
	stopTimeout   = 10 * time.Second
)

// server is one running moto_server process.
type server struct {
	endpoint string
	cmd      *exec.Cmd
	output   *tail
	done     chan struct{} // closed once the process has exited
}

// startServer starts moto_server on a free local port and waits until it answers.
func startServer() (*server, error) { return startServerWith(nil) }

// startServerWith starts moto_server with extra environment variables ("NAME=value") added to ours.
func startServerWith(extraEnv []string) (*server, error) {
	path, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, errors.New(installHint)
	}
	var lastErr error
	for range startAttempts {
		port, err := freePort()
		if err != nil {
			return nil, fmt.Errorf("pick a port for moto_server: %w", err)
		}
		s, err := launch(path, port, extraEnv)
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	return nil, fmt.Errorf("start moto_server (%d attempts): %w", startAttempts, lastErr)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func launch(path string, port int, extraEnv []string) (*server, error) {
	s := &server{
		endpoint: "http://127.0.0.1:" + strconv.Itoa(port),
		output:   &tail{max: 16 << 10},
		done:     make(chan struct{}),
	}
	cmd := exec.Command(path, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	if len(extraEnv) > 0 {
		cmd.Env = append(os.Environ(), extraEnv...)
	}
	cmd.Stdout = s.output
	cmd.Stderr = s.output
	cmd.SysProcAttr = sysProcAttr()
	started := make(chan error, 1)
	go func() {
		// On Linux the child is killed when the thread that started it exits (PR_SET_PDEATHSIG),
		// not when the process does. Pinning this goroutine to its thread until the child is
		// gone keeps that thread alive, so the signal fires exactly when the test binary dies,
		// even if it never reaches Main's clean stop.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(s.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("run %s: %w", path, err)
	}
	s.cmd = cmd
	if err := s.waitReady(); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// waitReady polls a moto-only URL, so that another program that won the race for the port is not
// mistaken for moto.
func (s *server) waitReady() error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-s.done:
			return fmt.Errorf("moto_server exited before answering; its output:\n%s", s.output)
		default:
		}
		resp, err := client.Get(s.endpoint + "/moto-api/data.json")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("moto_server did not answer on %s within %s; its output:\n%s", s.endpoint, readyTimeout, s.output)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = kill(s.cmd.Process)
	select {
	case <-s.done:
	case <-time.After(stopTimeout):
	}
}

// tail keeps the last max bytes written to it: enough of moto's output to explain a failed start
// without holding every request line of a long test run in memory.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
