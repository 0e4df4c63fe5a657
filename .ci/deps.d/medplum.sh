#!/usr/bin/env bash
# Installs the npm packages of the test FHIR R4 server that internal/fhirtest
# starts (internal/fhirtest/medplum: Medplum's FhirRouter over an in-memory
# repository, plus jose for the SMART token endpoint), pinned by
# package-lock.json. Runs `npm ci` only when node_modules is missing or the
# lock file changed since the last install; otherwise it is a no-op.
# Node 20 is needed (Medplum 4.x; 5.x needs Node 22). As root, Debian's nodejs
# and npm are installed when missing; as an ordinary user a missing node or npm
# is an error that says what to install.
set -euo pipefail

dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../internal/fhirtest/medplum" && pwd)"
stamp="$dir/node_modules/.televisit-lock.sha256"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps.d/medplum: node and npm are needed for the test FHIR server; run: sudo apt-get install -y nodejs npm" >&2
		exit 1
	fi
	echo "deps.d/medplum: installing nodejs npm"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends nodejs npm </dev/null
fi

major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$major" -lt 20 ]; then
	echo "deps.d/medplum: Node >= 20 is needed for Medplum 4.5.2, found $(node --version)" >&2
	exit 1
fi

want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
if [ -d "$dir/node_modules" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
	exit 0
fi
echo "deps.d/medplum: npm ci in $dir"
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
echo "$want" >"$stamp"
