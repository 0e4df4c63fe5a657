#!/usr/bin/env bash
# Installs axe-core (pinned in internal/browsertest/axe/package-lock.json)
# for the accessibility checks of the browser tests (internal/browsertest
# a11y.go injects node_modules/axe-core/axe.min.js into each page). Runs
# `npm ci` only when axe.min.js is missing or the lock file changed since the
# last install; otherwise it is a quiet no-op. Without npm it installs
# Debian's npm package when run as root, else it fails and says what to do.
set -euo pipefail

dir="$(cd "$(dirname "$0")/../../internal/browsertest/axe" && pwd)"
stamp="$dir/node_modules/.televisit-lock.sha256"

lock_sum() { sha256sum "$dir/package-lock.json" | cut -d' ' -f1; }

if [ -f "$dir/node_modules/axe-core/axe.min.js" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(lock_sum)" ]; then
	exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps.d/axe: npm is missing; run: sudo apt-get install -y npm (then make deps)" >&2
		exit 1
	fi
	echo "deps.d/axe: installing Debian's npm package"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends npm </dev/null
fi

echo "deps.d/axe: npm ci in ${dir#"$PWD"/}"
out="$(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error 2>&1)" || {
	echo "$out" >&2
	echo "deps.d/axe: npm ci failed" >&2
	exit 1
}
if [ ! -f "$dir/node_modules/axe-core/axe.min.js" ]; then
	echo "deps.d/axe: npm ci did not install node_modules/axe-core/axe.min.js" >&2
	exit 1
fi
lock_sum >"$stamp"
