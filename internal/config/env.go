package config

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

var (
	durationType = reflect.TypeFor[time.Duration]()
	secretType   = reflect.TypeFor[Secret]()
)

// applyEnv sets the settings named by TELEVISIT_* variables in environ
// ("KEY=value" strings). Unknown TELEVISIT_* variables are an error naming
// every one of them; values are never quoted in errors.
func applyEnv(cfg *Config, environ []string) error {
	byEnv := map[string]field{}
	for _, f := range leaves(cfg) {
		byEnv[f.Env] = f
	}
	var unknown []string
	var errs []error
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, EnvPrefix) {
			continue
		}
		f, ok := byEnv[name]
		if !ok {
			unknown = append(unknown, name)
			continue
		}
		if err := setString(f.V, value); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		errs = append([]error{fmt.Errorf("unknown environment variables: %s", strings.Join(unknown, ", "))}, errs...)
	}
	return errors.Join(errs...)
}

// setString parses s into v according to v's type.
func setString(v reflect.Value, s string) error {
	switch {
	case v.Type() == durationType:
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return errors.New("not a duration (such as 90s, 15m or 12h)")
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		v.SetString(s)
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return errors.New("not a boolean (true or false)")
		}
		v.SetBool(b)
	case v.Kind() == reflect.Int:
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return errors.New("not an integer")
		}
		v.SetInt(int64(n))
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		v.Set(reflect.ValueOf(splitList(s)))
	default:
		return fmt.Errorf("unsupported setting type %s", v.Type())
	}
	return nil
}

// splitList reads a comma-separated list, dropping empty entries.
func splitList(s string) []string {
	out := []string{}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
