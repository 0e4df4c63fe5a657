#!/usr/bin/env bash
# Builds the MinIO server that internal/miniotest starts for the recording
# tests, only when the binary is missing. The upstream server is archived and
# only a test stand-in for any S3 service: the version is pinned (what @latest
# resolved to in November 2026, verified to build with Go 1.26 and to pass
# internal/miniotest and recording/...), never @latest. The first build
# takes about 5 minutes on 2 cores; afterwards this script is a no-op.
# internal/miniotest looks for the binary at the same path (or $MINIO_BIN).
set -euo pipefail

MINIO_VERSION="v0.0.0-20260212201848-7aac2a2c5b7c"
bindir="${XDG_CACHE_HOME:-$HOME/.cache}/televisit/bin"

if [ -x "$bindir/minio" ]; then
	exit 0
fi
mkdir -p "$bindir"
echo "deps.d/minio: building github.com/minio/minio@$MINIO_VERSION into $bindir (a few minutes)"
GOBIN="$bindir" GOFLAGS=-buildvcs=false go install "github.com/minio/minio@$MINIO_VERSION"
