#!/usr/bin/env bash
# Builds ocipromote's release archives reproducibly, and writes the actions/checksums.txt that
# pins them. .github/workflows/release.yml runs it for a tag vX.Y.Z; test/examples runs it for the
# host platform, to check that two builds give the same bytes and that actions/install.sh installs
# what it built.
#
#   release-archives.sh build DIST
#       one archive per target, DIST/ocipromote_<os>_<arch>.tar.gz, holding every binary of cmd/
#       (actions/install.sh expects them all) and the LICENSE they are distributed under;
#       DIST/checksums.txt, their SHA-256 as sha256sum
#       prints it (the file the GitHub release publishes); DIST/source-digest
#       (`actions/install.sh source-digest`) and DIST/go-version
#   release-archives.sh pin VERSION CHECKSUMS
#       prints the actions/checksums.txt that pins the archives CHECKSUMS lists (a release's
#       checksums.txt) as release VERSION of this tree's Go source
#
# Environment:
#   OCIPROMOTE_TARGETS     GOOS/GOARCH pairs to build, space-separated (default: linux/amd64
#                          linux/arm64 darwin/arm64); "host" is the Go toolchain's own platform
#   OCIPROMOTE_GO_VERSION  when set (release.yml sets it), refuse to build with another Go
#   SOURCE_DATE_EPOCH      time of the archive entries in seconds since 1970 (default: the commit
#                          time of HEAD)
#
# The same source, Go version and targets give the same bytes on any machine, path, umask or time
# zone: no VCS stamp or build id, trimmed paths, archive entries sorted with a fixed time, owner
# and mode, gzip (its default level: -9 saves 0.3% and takes 2.5 times as long) without name or
# time. Needs bash 4, GNU tar and sha256sum.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
default_targets="linux/amd64 linux/arm64 darwin/arm64"
tmp=""
trap 'if [ -n "$tmp" ]; then rm -rf "$tmp"; fi' EXIT

die() {
  echo "release-archives.sh: $*" >&2
  exit 1
}

usage() {
  echo "usage: $0 build DIST | pin VERSION CHECKSUMS" >&2
  exit 2
}

build() {
  local dist=$1 epoch targets target os arch name archives=() entries
  # The Go on PATH builds the release, never a toolchain go.mod would download.
  export GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0 GOFLAGS=-buildvcs=false
  if [ -n "${OCIPROMOTE_GO_VERSION:-}" ] && [ "$(go env GOVERSION)" != "go$OCIPROMOTE_GO_VERSION" ]; then
    die "the release is built with Go $OCIPROMOTE_GO_VERSION, but go on PATH is $(go env GOVERSION)"
  fi
  epoch=${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct)}
  [[ "$epoch" =~ ^[0-9]+$ ]] || die "SOURCE_DATE_EPOCH '$epoch' is not a number of seconds"
  targets=${OCIPROMOTE_TARGETS:-$default_targets}
  if [ "$targets" = host ]; then
    targets="$(go env GOHOSTOS)/$(go env GOHOSTARCH)"
  fi
  tar --version 2>/dev/null | grep -q 'GNU tar' || die "GNU tar is needed (--sort=name, --mtime)"

  mkdir -p "$dist"
  dist=$(cd "$dist" && pwd)
  tmp=$(mktemp -d)
  for target in $targets; do
    [[ "$target" =~ ^[a-z0-9]+/[a-z0-9]+$ ]] || die "target '$target' is not GOOS/GOARCH"
    os=${target%/*}
    arch=${target#*/}
    [ "$os" != windows ] || die "windows is no release target: actions/install.sh refuses Windows runners"
    name="ocipromote_${os}_${arch}"
    mkdir -p "$tmp/$name"
    (cd "$root" && GOOS=$os GOARCH=$arch go build -trimpath -ldflags=-buildid= -o "$tmp/$name/" ./cmd/...)
    # Apache-2.0 asks that a copy of the licence go with every redistribution of the binaries.
    # Modes are set here, not taken from the umask, so that every build gives the same bytes.
    chmod 0755 "$tmp/$name"/*
    install -m 0644 "$root/LICENSE" "$tmp/$name/LICENSE"
    entries=$(cd "$tmp/$name" && LC_ALL=C ls)
    # shellcheck disable=SC2086 # binary names are cmd/ directory names, without spaces
    (cd "$tmp/$name" && tar --format=gnu --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
      -cf - $entries) | gzip -n >"$dist/$name.tar.gz"
    archives+=("$name.tar.gz")
  done
  [ ${#archives[@]} -gt 0 ] || die "no targets to build"
  (cd "$dist" && sha256sum -- "${archives[@]}") >"$dist/checksums.txt"
  bash "$root/actions/install.sh" source-digest >"$dist/source-digest"
  go version >"$dist/go-version"
}

pin() {
  local version=$1 checksums=$2 line n=0
  [[ "$version" =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || die "version '$version' is not vX.Y.Z"
  [ -f "$checksums" ] || die "no checksums file $checksums"
  # The comments of actions/checksums.txt stay; an older pin does not.
  grep '^#' "$root/actions/checksums.txt"
  echo
  echo "version: $version"
  echo "source: $(bash "$root/actions/install.sh" source-digest)"
  while IFS= read -r line || [ -n "$line" ]; do
    [ -n "$line" ] || continue
    [[ "$line" =~ ^[0-9a-f]{64}\ \ ocipromote_[a-z0-9]+_[a-z0-9]+\.tar\.gz$ ]] || die "$checksums: '$line' is not '<sha256>  ocipromote_<os>_<arch>.tar.gz'"
    printf '%s\n' "$line"
    n=$((n + 1))
  done <"$checksums"
  [ "$n" -gt 0 ] || die "$checksums lists no archive"
}

case "${1:-}" in
build)
  [ $# -eq 2 ] || usage
  build "$2"
  ;;
pin)
  [ $# -eq 3 ] || usage
  pin "$2" "$3"
  ;;
*) usage ;;
esac
