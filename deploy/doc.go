// Package deploy holds Televisit's deployment artefacts and the tests that
// keep them honest: the container image (Dockerfile), the single-host stack
// (compose.yaml with PostgreSQL, MinIO and coturn, the sample configuration
// televisit.yaml and gen-secrets.sh) and the Kubernetes chart
// (helm/televisit). It has no Go code of its own besides those tests; the
// small healthcheck command the image carries lives in deploy/healthcheck.
//
// docs/operations.md is the guide that goes with these files.
package deploy
