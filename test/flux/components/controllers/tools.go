//go:build tools

// Package tools pins source-controller and kustomize-controller for the real-Flux end-to-end test.
package tools

import (
	_ "github.com/fluxcd/kustomize-controller"
	_ "github.com/fluxcd/source-controller"
)
