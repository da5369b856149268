package devstack

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os/exec"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// process is one child of the stack, in its own process group so that stopping it reaches
// everything it started; the kernel kills it if the stack's thread that started it dies.
type process struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
}

func startProcess(name string, cmd *exec.Cmd, logs *Logs) (*process, error) {
	return startFilteredProcess(name, cmd, logs, nil)
}

// startFilteredProcess is startProcess logging only the lines keep accepts (nil: every line).
func startFilteredProcess(name string, cmd *exec.Cmd, logs *Logs, keep func(line string) bool) (*process, error) {
	p := &process{name: name, cmd: cmd, done: make(chan struct{})}
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	cmd.Stderr = pw
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	started := make(chan error, 1)
	go func() {
		// Pdeathsig fires when the starting thread exits: keep this goroutine on it until the child is gone.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		pw.Close()
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if keep == nil || keep(sc.Text()) {
				logs.Line(name, sc.Text())
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	return p, nil
}

// stop sends SIGTERM to the group, then SIGKILL after grace.
func (p *process) stop(grace time.Duration) {
	if p == nil || p.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
	// Anything left in the group (a bootstrap under RIE) goes too.
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
}

// motoAccessLine is a line of moto_server's request log (werkzeug's access log) for a request it
// answered below 500: 127.0.0.1 - - [02/Dec/2026 10:11:55] "POST / HTTP/1.1" 200 -
var motoAccessLine = regexp.MustCompile(`^\S+ - - \[[^\]]*\] "[^"]*" [1234]\d\d `)

// motoStartLines are what werkzeug prints once on start: where it listens, and that it is a
// development server, which moto is meant to be here.
var motoStartLines = []string{"WARNING: This is a development server.", " * Running on ", "Press CTRL+C to quit"}

// motoLines is the filter of moto_server's lines: every line when verbose (nil), else
// motoLineWorthLogging.
func motoLines(verbose bool) func(line string) bool {
	if verbose {
		return nil
	}
	return motoLineWorthLogging
}

// motoLineWorthLogging drops moto's log of the requests it answered (a 4xx is an answer too: a
// failed condition, a missing item) and its start-up banner: the stream and queue pollers ask
// several times a second, and every component logs what it did itself. Requests moto failed
// (5xx), its warnings and tracebacks stay.
func motoLineWorthLogging(line string) bool {
	for _, p := range motoStartLines {
		if strings.HasPrefix(line, p) {
			return false
		}
	}
	return !motoAccessLine.MatchString(line)
}

func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Logs writes every component's lines to one writer, each prefixed with the component's name;
// the functions' JSON log lines are rendered as "time LEVEL message key=value".
type Logs struct {
	mu  sync.Mutex
	out io.Writer
	// Raw keeps JSON lines as they are.
	Raw bool
}

// NewLogs returns Logs writing to out.
func NewLogs(out io.Writer) *Logs { return &Logs{out: out} }

// Line writes one line of component name.
func (l *Logs) Line(name, line string) {
	if l == nil || l.out == nil {
		return
	}
	if !l.Raw {
		line = renderJSONLine(line)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.out, "%-10s| %s\n", name, line)
}

// Printf writes a line of the stack itself.
func (l *Logs) Printf(format string, args ...any) { l.Line("devstack", fmt.Sprintf(format, args...)) }

func renderJSONLine(line string) string {
	t := strings.TrimSpace(line)
	if !strings.HasPrefix(t, "{") {
		return line
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(t), &m); err != nil {
		return line
	}
	var b strings.Builder
	if ts, ok := m["time"].(string); ok {
		if tt, err := time.Parse(time.RFC3339Nano, ts); err == nil {
			ts = tt.Local().Format("15:04:05.000")
		}
		b.WriteString(ts)
		b.WriteByte(' ')
		delete(m, "time")
	}
	if lv, ok := m["level"].(string); ok {
		fmt.Fprintf(&b, "%-5s ", lv)
		delete(m, "level")
	}
	if msg, ok := m["msg"]; ok {
		fmt.Fprint(&b, msg)
		delete(m, "msg")
	} else if msg, ok := m["message"]; ok {
		fmt.Fprint(&b, msg)
		delete(m, "message")
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := m[k]
		switch v.(type) {
		case string, float64, bool, nil:
			fmt.Fprintf(&b, " %s=%v", k, v)
		default:
			j, _ := json.Marshal(v)
			fmt.Fprintf(&b, " %s=%s", k, j)
		}
	}
	return b.String()
}
