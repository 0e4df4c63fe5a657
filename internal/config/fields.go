package config

import (
	"reflect"
	"strings"
)

// EnvPrefix starts every environment variable of the configuration.
const EnvPrefix = "TELEVISIT_"

// field is one leaf setting of a Config.
type field struct {
	Key string        // dotted YAML path: server.public_url
	Env string        // TELEVISIT_SERVER_PUBLIC_URL
	V   reflect.Value // settable value inside the Config
}

// leaves lists the settings of *cfg in declaration order.
func leaves(cfg *Config) []field {
	return walk(reflect.ValueOf(cfg).Elem(), nil)
}

func walk(v reflect.Value, path []string) []field {
	var out []field
	t := v.Type()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		p := append(path[:len(path):len(path)], name)
		fv := v.Field(i)
		if fv.Kind() == reflect.Struct && fv.Type() != durationType {
			out = append(out, walk(fv, p)...)
			continue
		}
		out = append(out, field{
			Key: strings.Join(p, "."),
			Env: EnvPrefix + strings.ToUpper(strings.Join(p, "_")),
			V:   fv,
		})
	}
	return out
}

// EnvName is the environment variable of a dotted key.
func EnvName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// Setting describes one configuration key, for help texts.
type Setting struct {
	Key, Env string
	Secret   bool
}

// Settings lists every key of the configuration.
func Settings() []Setting {
	var cfg Config
	var out []Setting
	for _, f := range leaves(&cfg) {
		out = append(out, Setting{Key: f.Key, Env: f.Env, Secret: f.V.Type() == secretType})
	}
	return out
}
