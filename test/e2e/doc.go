// Package e2e tests the built binaries end to end: TestMain compiles ./cmd/... once and starts
// one real CNCF distribution registry (Debian's docker-registry) on loopback; each test runs the
// binaries as processes, with flags or INPUT_* variables and a clean environment, against its own
// repository, and checks both the outputs and what the registry holds afterwards.
//
// Run it with `go test ./test/e2e/`; it needs docker-registry on PATH (scripts/deps.sh installs
// it) and fails, never skips, without it.
package e2e
