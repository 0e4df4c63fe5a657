#!/usr/bin/env bash
# Creates the secret files compose.yaml mounts, in deploy/secrets/ (or the
# directory given), each readable only by its owner. Existing files are kept,
# so running it again never rotates a key by accident. The TLS certificates
# are self-signed, for a first start only: replace tls.crt/tls.key with your
# CA's certificate for the public host (docs/operations.md, TLS).
#
#   deploy/gen-secrets.sh [DIR] [PUBLIC_HOST]
#
# Needs openssl. Never commit the output (.gitignore'd, .dockerignore'd).
set -euo pipefail

dir="${1:-$(dirname "$0")/secrets}"
host="${2:-visits.example.org}"
mkdir -p "$dir" "$dir/minio-certs"
chmod 700 "$dir"
umask 077

rand() { openssl rand -base64 "$1" | tr -d '\n=+/' | cut -c1-"$2"; }
put() { # put NAME VALUE: write once
	[ -e "$dir/$1" ] || printf '%s\n' "$2" >"$dir/$1"
}

pgpass="$(rand 48 40)"
put postgres_password "$pgpass"
put database_url "postgres://televisit:$(cat "$dir/postgres_password")@postgres:5432/televisit?sslmode=disable"
put phi_keyring "k1:$(openssl rand -base64 32)"
put oidc_client_secret "replace-with-the-client-secret-from-your-identity-provider"
put turn_secret "$(rand 48 48)"
put turn_secret_previous "$(cat "$dir/turn_secret")"   # differs only during a rotation
put minio_root_user "televisit-admin"
put minio_root_password "$(rand 48 40)"
put s3_access_key "televisit-$(rand 24 12)"
put s3_secret_key "$(rand 48 40)"
put minio_kms_key "televisit-recordings:$(openssl rand -base64 32)"

if [ ! -e "$dir/tls.crt" ]; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 90 \
		-subj "/CN=$host" -addext "subjectAltName=DNS:$host,DNS:localhost,IP:127.0.0.1" \
		-keyout "$dir/tls.key" -out "$dir/tls.crt" 2>/dev/null
fi
if [ ! -e "$dir/minio-certs/public.crt" ]; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
		-subj "/CN=minio" -addext "subjectAltName=DNS:minio,DNS:localhost,IP:127.0.0.1" \
		-keyout "$dir/minio-certs/private.key" -out "$dir/minio-certs/public.crt" 2>/dev/null
fi
# The containers run as non-root users that must read their secrets; the
# directory itself stays private to the host user.
chmod 644 "$dir"/* "$dir"/minio-certs/* 2>/dev/null || true
chmod 755 "$dir/minio-certs"
echo "gen-secrets: secrets in $dir (edit oidc_client_secret; replace tls.crt/tls.key for $host)"
