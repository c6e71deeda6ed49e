#!/bin/sh
# build.sh builds the real components the Flux end-to-end test (test/flux) runs, each from its own
# wrapper module here (kube-apiserver and the controllers need different Kubernetes library
# versions), into a cache directory keyed by the wrapper module and the Go version, so a second
# run reuses them. It prints the cache directory: <dir>/bin holds the binaries, <dir>/crds the
# controllers' CustomResourceDefinitions.
#
# Cold, on 2 idle cores: kube-apiserver about 7 min, source- and kustomize-controller about 5 min,
# notification-controller about 8 min. The versions, replaces and flags are the ones checked to
# build offline with Go 1.26 (docs/flux.md).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
GO=${GO:-go}
cache=${OCIPROMOTE_FLUX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ocipromote-flux}
gover=$($GO env GOVERSION)

# key_of DIR is the cache key of a wrapper module: its go.mod (which pins every module version,
# so go.sum adds nothing), tools.go and the Go version.
key_of() {
	(cd "$here/$1" && cat go.mod tools.go && echo "$gover") | sha256sum | cut -c1-16
}

# build_component DIR PACKAGE... builds each main PACKAGE of the wrapper module in DIR into
# $cache/<DIR>-<key>/bin and copies the module's config/crd/bases into crds/.
build_component() {
	dir=$1
	shift
	out=$cache/$dir-$(key_of "$dir")
	if [ -f "$out/.done" ]; then
		echo "$out"
		return
	fi
	mkdir -p "$cache"
	tmp=$(mktemp -d "$cache/$dir.XXXXXX")
	mkdir -p "$tmp/bin" "$tmp/crds"
	start=$(date +%s)
	for pkg in "$@"; do
		(cd "$here/$dir" && GOFLAGS=-mod=mod $GO build -o "$tmp/bin/$(basename "$pkg")" "$pkg") >&2
		moddir=$(cd "$here/$dir" && GOFLAGS=-mod=mod $GO list -f '{{.Module.Dir}}' "$pkg")
		if [ -d "$moddir/config/crd/bases" ]; then
			cp "$moddir"/config/crd/bases/*.yaml "$tmp/crds/"
			chmod u+w "$tmp/crds/"*.yaml
		fi
	done
	echo "built $dir in $(($(date +%s) - start)) s" >&2
	touch "$tmp/.done"
	# -mod=mod may have completed go.mod: key the result by the go.mod it was built from.
	out=$cache/$dir-$(key_of "$dir")
	rm -rf "$out"
	mv "$tmp" "$out"
	echo "$out"
}

case ${1:-all} in
kube-apiserver) build_component kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver ;;
controllers) build_component controllers github.com/fluxcd/source-controller github.com/fluxcd/kustomize-controller ;;
notification) build_component notification github.com/fluxcd/notification-controller ;;
all)
	build_component kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
	build_component controllers github.com/fluxcd/source-controller github.com/fluxcd/kustomize-controller
	build_component notification github.com/fluxcd/notification-controller
	;;
*) echo "usage: $0 [kube-apiserver|controllers|notification|all]" >&2; exit 2 ;;
esac
