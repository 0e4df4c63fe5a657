#!/usr/bin/env bash
# Builds Helm, which deploy/helm_test.go runs (helm lint, helm template) on
# the chart in deploy/helm/televisit, only when the binary is missing. Helm is
# a Go module: the version is pinned (v3.22.0, verified to build with Go
# 1.26.8), never @latest. The first build took 4m42s on 2 shared cores
# (November 2026); afterwards this script is a no-op. deploy/helm_test.go
# looks for the binary at the same path (or $HELM_BIN, or helm on PATH).
set -euo pipefail

HELM_VERSION="v3.22.0"
bindir="${XDG_CACHE_HOME:-$HOME/.cache}/televisit/bin"

if [ -x "$bindir/helm" ]; then
	exit 0
fi
mkdir -p "$bindir"
echo "deps.d/helm: building helm.sh/helm/v3@$HELM_VERSION into $bindir (a few minutes)"
GOBIN="$bindir" GOFLAGS=-buildvcs=false go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
