package devstack

import (
	"bytes"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

func TestMotoLines(t *testing.T) {
	for line, keep := range map[string]bool{
		`127.0.0.1 - - [02/Dec/2026 10:11:55] "POST / HTTP/1.1" 200 -`:                       false,
		`127.0.0.1 - - [02/Dec/2026 10:11:55] "GET /moto-api/ HTTP/1.1" 200 -`:               false,
		`127.0.0.1 - - [02/Dec/2026 10:11:55] "POST / HTTP/1.1" 400 -`:                       false,
		`127.0.0.1 - - [02/Dec/2026 10:11:55] "POST / HTTP/1.1" 500 -`:                       true,
		`Traceback (most recent call last):`:                                                 true,
		`WARNING: This is a development server. Do not use it in a production deployment.`:   false,
		` * Running on http://127.0.0.1:45791`:                                               false,
		`Press CTRL+C to quit`:                                                               false,
		`/usr/lib/python3/site-packages/moto/core/responses.py:123: UserWarning: deprecated`: true,
	} {
		if got := motoLineWorthLogging(line); got != keep {
			t.Errorf("%q: kept %v, want %v", line, got, keep)
		}
	}
}

// syncBuffer is a bytes.Buffer the process's reader and the test may use at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestMotoLogQuietUnlessVerbose: what reaches the stack's log of a process writing what
// moto_server writes, by default and with Config.Verbose.
func TestMotoLogQuietUnlessVerbose(t *testing.T) {
	const output = ` * Running on http://127.0.0.1:5000
127.0.0.1 - - [02/Dec/2026 10:11:55] "POST / HTTP/1.1" 200 -
127.0.0.1 - - [02/Dec/2026 10:11:56] "POST / HTTP/1.1" 400 -
Traceback (most recent call last):
127.0.0.1 - - [02/Dec/2026 10:11:57] "POST / HTTP/1.1" 500 -
`
	for _, tc := range []struct {
		verbose bool
		want    []string
	}{
		{false, []string{"Traceback (most recent call last):", `"POST / HTTP/1.1" 500 -`}},
		{true, strings.Split(strings.TrimSuffix(output, "\n"), "\n")},
	} {
		var out syncBuffer
		p, err := startFilteredProcess("moto", exec.Command("printf", "%s", output), NewLogs(&out), motoLines(tc.verbose))
		if err != nil {
			t.Fatal(err)
		}
		<-p.done // every line read
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(lines) != len(tc.want) {
			t.Fatalf("verbose %v: logged\n%s\nwant %d line(s)", tc.verbose, out.String(), len(tc.want))
		}
		for i, want := range tc.want {
			if !strings.HasPrefix(lines[i], "moto      | ") || !strings.Contains(lines[i], want) {
				t.Errorf("verbose %v: line %d is %q, want moto's %q", tc.verbose, i, lines[i], want)
			}
		}
	}
}
