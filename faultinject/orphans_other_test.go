//go:build faultinject && !linux

package faultinject

import "syscall"

// dieWithTest is Linux's parent-death signal elsewhere: nothing, so a run
// that times out leaves its processes for the developer to stop.
func dieWithTest() *syscall.SysProcAttr { return nil }
