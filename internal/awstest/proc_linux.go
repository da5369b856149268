//go:build linux

package awstest

import (
	"os"
	"syscall"
)

// sysProcAttr puts moto_server in its own process group (so stop reaches anything it spawned) and
// has the kernel kill it when the test binary dies, because a test binary whose TestMain does not
// call Main, or that is killed by go test's timeout, never gets to stop it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func kill(p *os.Process) error {
	return syscall.Kill(-p.Pid, syscall.SIGKILL)
}
