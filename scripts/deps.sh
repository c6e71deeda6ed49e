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
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
echo "installing ${need[*]} (Debian packages)" >&2
export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get install -y --no-install-recommends "${need[@]}" >/dev/null 2>&1; then
  $sudo apt-get update -qq
  $sudo apt-get install -y --no-install-recommends "${need[@]}"
fi
# The packages start a registry service on :5000 (and etcd on :2379) where an init system runs;
# the tests start their own on free loopback ports and do not need them.
