//go:build tools

// Package tools pins notification-controller for the real-Flux end-to-end test.
package tools

import _ "github.com/fluxcd/notification-controller"
