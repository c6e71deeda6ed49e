#!/usr/bin/env bash
# Installs what the tests need and a fresh Debian machine lacks: the CNCF distribution registry
# (Debian's docker-registry) for the end-to-end tests. Safe to run again.
set -euo pipefail

need=()
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
command -v git >/dev/null 2>&1 || need+=(git)

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
# The package starts a registry service on :5000 where an init system runs; the tests start
# their own on free loopback ports and do not need it.
