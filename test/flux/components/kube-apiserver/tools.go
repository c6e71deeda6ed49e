//go:build tools

// Package tools pins kube-apiserver for the real-Flux end-to-end test (test/flux): the version
// and the staging-module replaces are those checked to build offline with Go 1.26.
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
