//go:build unix

package oci

import (
	"errors"
	"net"
	"syscall"
)

// open reports whether the registry has not closed c, which carried no request: a look at what
// waits to be read, which neither waits nor takes it, finds nothing. (A read with a deadline
// already past cannot tell: Go reports the deadline before it reads.)
func open(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	alive := false
	err = raw.Read(func(fd uintptr) bool {
		var b [1]byte
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		// Nothing to read yet: open. An end (no error, nothing read), an error, or bytes the
		// registry sent unasked (a timeout's 408): not a connection to send a request on.
		alive = errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EWOULDBLOCK)
		return true
	})
	return err == nil && alive
}
