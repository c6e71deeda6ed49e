#!/usr/bin/env bash
# Puts ocipromote's binaries (one per directory of cmd/: build-rc, dispatch-receiver,
# tag-validated, ...) on PATH for the root action and for actions/*. Each action runs it from its
# own checkout of ocipromote:
#
#   install.sh fetch [BIN..]  reuse this job's earlier install, or download the release archive
#                             pinned in actions/checksums.txt, verify its SHA-256 and install it;
#                             prints installed=true|false and need_go=true|false as step outputs
#   install.sh build [BIN..]  build the binaries from this checkout with the runner's Go
#
# BIN.. names the binaries the calling action runs (default: all of them): a build compiles only
# those, so a job that runs one action compiles one binary, and a later action of the job that
# needs another binary builds that one.
#   install.sh source-digest  print the digest of the Go source the binaries are built from
#
# A download is used only when checksums.txt pins an archive for this OS/arch AND records the
# digest of exactly this checkout's Go source, so a pinned commit never runs binaries of another
# commit. Otherwise the action builds from its own source (a ::notice:: says so). A checksum
# mismatch fails the step; an archive is never run, or even unpacked, before it is verified.
#
# Linux and macOS runners only: on Windows both fetch and build stop with an error that says so
# (the actions run bash and Unix binaries, and no Windows archive is released).
#
# OCIPROMOTE_RELEASE_URL is a test seam, honoured only as a file:// URL of a local directory laid
# out like the release downloads (<dir>/<version>/<archive>): test/examples points it at archives
# it built itself, so the very path that downloads, verifies and installs is tested without a
# network. Any other value fails the step instead of being used. Real downloads come from
# GitHub's release URL below over HTTPS alone: letting a variable name another host would make
# where the binaries come from a setting that anything able to set a job's environment (a step
# writing GITHUB_ENV, a caller's env:) could change, and the pin would then rest on the SHA-256
# check alone.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
checksums="$here/checksums.txt"
binaries=()
for d in "$root"/cmd/*/; do
  d=${d%/}
  binaries+=("${d##*/}")
done
release_url="https://github.com/ocipromote/ocipromote/releases/download"
stamp=".ocipromote-installed"
tmp=""
trap 'if [ -n "$tmp" ]; then rm -rf "$tmp"; fi' EXIT

die() {
  echo "::error title=ocipromote install::$*" >&2
  exit 1
}

# release_base prints where the release archives are downloaded from: GitHub's release URL, or
# the file:// directory OCIPROMOTE_RELEASE_URL names (see the header; anything else is refused).
release_base() {
  local url=${OCIPROMOTE_RELEASE_URL:-}
  case "$url" in
  "") printf '%s\n' "$release_url" ;;
  file:///*) printf '%s\n' "${url%/}" ;;
  *) die "OCIPROMOTE_RELEASE_URL is '$url', but it may only be a file:// URL of a local directory (a test seam): release archives are downloaded from $release_url over HTTPS and from nowhere else. Unset it." ;;
  esac
}

# download copies url to file: a local file for file://, else over HTTPS only.
download() {
  local url=$1 file=$2
  case "$url" in
  file://*) cp -- "${url#file://}" "$file" ;;
  *) curl -fsSL --retry 3 --proto '=https' -o "$file" "$url" ;;
  esac
}

# output sets a step output (or prints it when run by hand).
output() {
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
  fi
  printf '%s=%s\n' "$1" "$2"
}

# sha256 prints the SHA-256 of a file, or of stdin without an argument (Linux and macOS).
sha256() {
  local sum
  if command -v sha256sum >/dev/null 2>&1; then
    sum=$(sha256sum "$@")
  else
    sum=$(shasum -a 256 "$@")
  fi
  printf '%s\n' "${sum%% *}"
}

# source_digest covers every file the binaries are built from: go.mod, go.sum, cmd/ and pkg/.
# release.yml records it in checksums.txt with the same function.
source_digest() {
  (
    cd "$root"
    { printf '%s\n' go.mod go.sum; find cmd pkg -type f; } | LC_ALL=C sort | while IFS= read -r f; do
      printf '%s  %s\n' "$(sha256 "$f")" "$f"
    done | sha256
  )
}

platform() {
  local os arch
  case "${RUNNER_OS:-$(uname -s)}" in
  Linux) os=linux ;;
  macOS | Darwin) os=darwin ;;
  Windows | MINGW* | MSYS* | CYGWIN*) os=windows ;;
  *) os=unknown ;;
  esac
  case "${RUNNER_ARCH:-$(uname -m)}" in
  X64 | x86_64 | amd64) arch=amd64 ;;
  ARM64 | arm64 | aarch64) arch=arm64 ;;
  *) arch=unknown ;;
  esac
  printf '%s_%s\n' "$os" "$arch"
}

# require_unix stops on a Windows runner with a message that says why, rather than letting a
# build leave build-rc.exe where build-rc is expected and fail with a misleading error.
require_unix() {
  case "$(platform)" in
  windows_*) die "ocipromote's actions run on Linux and macOS runners only, and this job runs on Windows ($(platform)): no Windows release archive exists and the actions run bash and Unix binaries. Run the job on a Linux runner, e.g. runs-on: ubuntu-latest." ;;
  esac
}

# bin_dir is per checkout of the action, so the actions of one job share one install and two
# versions of ocipromote in one job do not mix.
bin_dir() {
  local key
  key=$(printf '%s' "$root" | sha256)
  printf '%s/ocipromote/%s/bin\n' "${RUNNER_TEMP:-${TMPDIR:-/tmp}}" "${key:0:16}"
}

# publish puts dir on PATH for the following steps (GITHUB_PATH applies from the next step on,
# inside a composite action too) and hands it on as the bin_dir output.
publish() {
  local dir=$1
  if [ -n "${GITHUB_PATH:-}" ]; then
    printf '%s\n' "$dir" >>"$GITHUB_PATH"
  fi
  output bin_dir "$dir"
}

complete() {
  local dir=$1 b
  [ -f "$dir/$stamp" ] || return 1
  for b in "${wanted[@]}"; do
    [ -x "$dir/$b" ] || return 1
  done
}

# pinned prints the value of a "key: value" line of checksums.txt, or the digest pinned for a
# file name ("<sha256>  <name>" lines); nothing when absent.
pinned() {
  local want=$1 line
  [ -f "$checksums" ] || return 0
  while IFS= read -r line || [ -n "$line" ]; do
    line=${line%$'\r'}
    case "$line" in
    "" | "#"*) continue ;;
    "$want: "*)
      printf '%s\n' "${line#"$want: "}"
      return 0
      ;;
    *"  $want")
      printf '%s\n' "${line%%  *}"
      return 0
      ;;
    esac
  done <"$checksums"
}

need_build() {
  echo "::notice title=ocipromote install::$1: building the binaries from the action's own source with Go"
  output installed false
  if command -v go >/dev/null 2>&1; then
    output need_go false
  else
    output need_go true
  fi
}

fetch() {
  local dir archive version source want got b base
  require_unix
  base=$(release_base)
  dir=$(bin_dir)
  if complete "$dir"; then
    echo "ocipromote: reusing the binaries installed earlier in this job in $dir"
    publish "$dir"
    output installed true
    return
  fi
  archive="ocipromote_$(platform).tar.gz"
  version=$(pinned version)
  source=$(pinned source)
  want=$(pinned "$archive")
  if [ -z "$version" ] || [ -z "$want" ]; then
    need_build "actions/checksums.txt pins no release archive $archive"
    return
  fi
  [[ "$version" =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || die "actions/checksums.txt: version '$version' is not vX.Y.Z"
  [[ "$want" =~ ^[0-9a-f]{64}$ ]] || die "actions/checksums.txt: '$want' for $archive is not a SHA-256"
  if [ "$source" != "$(source_digest)" ]; then
    need_build "this commit of the action is not the source of release $version (actions/checksums.txt records another source digest)"
    return
  fi

  tmp=$(mktemp -d)
  echo "ocipromote: downloading $base/$version/$archive"
  if ! download "$base/$version/$archive" "$tmp/$archive"; then
    echo "::warning title=ocipromote install::could not download $archive of $version"
    need_build "no release archive"
    return
  fi
  got=$(sha256 "$tmp/$archive")
  if [ "$got" != "$want" ]; then
    die "$archive of $version has SHA-256 $got, but actions/checksums.txt pins $want: refusing to install it (the download was altered or the release was replaced; report it to the ocipromote maintainers)"
  fi
  mkdir -p "$tmp/unpacked" "$dir"
  tar -xzf "$tmp/$archive" -C "$tmp/unpacked" "${binaries[@]}"
  for b in "${binaries[@]}"; do
    [ -f "$tmp/unpacked/$b" ] || die "$archive of $version lacks $b"
    install -m 0755 "$tmp/unpacked/$b" "$dir/$b"
  done
  echo "release $version ($archive, sha256:$got)" >"$dir/$stamp"
  echo "ocipromote: installed release $version ($archive, sha256:$got) in $dir"
  publish "$dir"
  output installed true
}

build() {
  local dir b
  require_unix
  command -v go >/dev/null 2>&1 || die "Go is needed to build ocipromote from source and is not on PATH"
  dir=$(bin_dir)
  mkdir -p "$dir"
  echo "::group::Build ocipromote from $root with $(go version)"
  local pkgs=()
  for b in "${wanted[@]}"; do
    pkgs+=("./cmd/$b")
  done
  (cd "$root" && CGO_ENABLED=0 GOWORK=off GOFLAGS=-buildvcs=false go build -trimpath -o "$dir/" "${pkgs[@]}")
  echo "::endgroup::"
  for b in "${wanted[@]}"; do
    [ -x "$dir/$b" ] || die "go build did not produce $b in $dir"
  done
  echo "built from source $(source_digest) with $(go version)" >"$dir/$stamp"
  echo "ocipromote: built ${wanted[*]} in $dir"
  publish "$dir"
}

# wanted are the binaries the caller needs (see BIN.. above), each one of cmd/.
wanted=("${binaries[@]}")
if [ $# -gt 1 ]; then
  wanted=("${@:2}")
  for b in "${wanted[@]}"; do
    [[ " ${binaries[*]} " == *" $b "* ]] || die "install.sh: no binary $b in cmd/ (there are: ${binaries[*]})"
  done
fi

case "${1:-}" in
fetch) fetch ;;
build) build ;;
source-digest) source_digest ;;
*)
  echo "usage: $0 fetch [BINARY...] | build [BINARY...] | source-digest" >&2
  exit 2
  ;;
esac
