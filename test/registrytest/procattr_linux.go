package registrytest

import "syscall"

// sysProcAttr makes the kernel stop the registry if the test process dies without cleaning up
// (a panic, a go test timeout), so no registry outlives its test run.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
