package config

import _ "embed"

// Example is a commented example configuration file.
//
//go:embed example.yaml
var Example string
