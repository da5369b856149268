//go:build !linux

package awstest

import (
	"os"
	"syscall"
)

// sysProcAttr has nothing portable to offer: off Linux, moto_server outlives a test binary that
// does not stop it through Main.
func sysProcAttr() *syscall.SysProcAttr { return nil }

func kill(p *os.Process) error { return p.Kill() }
