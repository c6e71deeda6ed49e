#!/usr/bin/env bash
# Installs what the tests need and a fresh Debian machine lacks: the CNCF distribution registry
# (Debian's docker-registry) for the end-to-end tests, and etcd (Debian's etcd-server) for the
# real-Flux test (test/flux), which also needs kubectl (on the machine image; Debian's
# kubernetes-client conflicts with it, so it is not installed here). Safe to run again.
set -euo pipefail

need=()
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
command -v git >/dev/null 2>&1 || need+=(git)
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
command -v kubectl >/dev/null 2>&1 || echo "kubectl is not on PATH: make e2e-flux needs it (any version from 1.28 on)" >&2

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
# Only root installs, and says so: a make target never runs sudo behind the user's back (a
# password prompt, or a package change nobody asked for). Anyone else is told what to install.
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "the tests need: ${need[*]}" >&2
  echo "install it, e.g. on Debian or Ubuntu: sudo apt-get install --no-install-recommends ${need[*]}" >&2
  echo "(or run make deps as root); then run make again" >&2
  exit 1
fi
echo "installing ${need[*]} (Debian packages, as root)" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends "${need[@]}" >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y --no-install-recommends "${need[@]}"
fi
# The packages start a registry service on :5000 (and etcd on :2379) where an init system runs;
# the tests start their own on free loopback ports and do not need them.
