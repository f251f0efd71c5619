//go:build faultinject && linux

package faultinject

import "syscall"

// dieWithTest has the kernel kill a started process when the test binary
// dies, however it dies: a run stopped by go test's -timeout (SIGQUIT)
// skips every cleanup, and left a Temporal server, a worker and an API
// running, the server busy on one core for as long as nobody noticed.
func dieWithTest() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
