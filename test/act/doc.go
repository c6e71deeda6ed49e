// Package act runs the example workflows of examples/github/workflows, unchanged (README.md
// links them; test/examples checks any block of README.md or docs/ that shows one byte for
// byte), with nektos/act on this host against a real distribution registry on loopback: a push builds a release candidate, Flux-shaped
// repository_dispatch and status events and a manual workflow_dispatch promote, events that must
// not promote are ignored, a re-run of each workflow writes nothing, a rollback puts live back,
// and while its hold is on a report of a new candidate is answered held and writes nothing. The
// promote workflow's two jobs, decide and promote, are checked one by one. After each run the test checks the registry's tags and the steps' outputs, and the GitHub
// records the workflows switch on (deployments, releases, pull request comments), written to a
// fake of GitHub's REST API on loopback (pkg/records/githubtest).
//
// The workflows pin ocipromote/ocipromote by a commit; act takes that repository from a copy of
// this tree (--local-repository), so the actions run as GitHub runs a pinned remote action: from
// their own checkout, apart from the workspace. actions/checkout becomes the copy of the
// workspace act makes itself; actions/checkout and actions/setup-go are mapped to stand-ins under
// testdata/stand-ins that fail if they ever run. Nothing is fetched but Go modules before the
// runs: the workflows run with GOPROXY=off.
//
// Where act differs from GitHub the test makes up for it:
//   - act ignores a trigger's filters (branches, paths, types): each event is first checked
//     against the workflow's on: filters (githubWouldRun);
//   - act re-reads a composite action's last GITHUB_OUTPUT into the action's outputs, which would
//     hide a wrong outputs: mapping: the test reads the outputs act computes from the mapping;
//   - act sets INPUT_* for the steps of a composite action itself, which hides a missing env:
//     mapping; the static checks of the action files (test/examples) cover that.
//
// It is a module of its own, run by `make e2e`:
//
//	cd test/act && go test -count=1 ./...
//
// It installs act (go install github.com/nektos/act@v0.2.89) into the user cache directory once,
// and needs git and docker-registry on PATH (scripts/deps.sh installs them).
package act
