// Package config loads the configuration of the televisit binary from a
// YAML file and TELEVISIT_* environment variables, and checks it.
//
// Every setting has a dotted key (server.public_url) and an environment
// variable (TELEVISIT_SERVER_PUBLIC_URL); the environment overrides the file.
// Unknown keys in the file and unknown TELEVISIT_* variables are errors that
// name them. Secrets (keys.phi, database.url, auth.client_secret,
// notify.smtp.password, notify.webhook.secret) may instead be read from a
// file named by the matching *_file setting. Secrets have their own type,
// Secret, which never prints its value.
package config
