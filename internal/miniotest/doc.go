// Package miniotest runs a real MinIO server on 127.0.0.1 for tests: TLS with
// a self-signed certificate generated for each run, a KMS secret key so that
// SSE-S3 and SSE-KMS work, and root credentials generated per server. Each
// Start gets its own process, port, data directory and log; the server stops
// at the end of the test and its log is printed when the test failed.
// Stop and Restart (same port, data and certificate) let a test simulate an
// outage of the object store.
//
// The binary is built by `make deps` (.ci/deps.d/minio.sh) into
// ${XDG_CACHE_HOME:-$HOME/.cache}/televisit/bin/minio; MINIO_BIN overrides
// the path. A missing binary fails the test, naming `make deps`.
package miniotest
