package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
)

// readSecretFiles fills each Secret setting X from the file named by its
// sibling X_file setting. Setting both is an error. One trailing newline
// (or CRLF) is removed from the file's content.
func readSecretFiles(cfg *Config) error {
	byKey := map[string]field{}
	all := leaves(cfg)
	for _, f := range all {
		byKey[f.Key] = f
	}
	var errs []error
	for _, f := range all {
		if f.V.Type() != secretType {
			continue
		}
		file, ok := byKey[f.Key+"_file"]
		if !ok || file.V.String() == "" {
			continue
		}
		if f.V.String() != "" {
			errs = append(errs, fmt.Errorf("%s and %s are both set; use one", f.Key, file.Key))
			continue
		}
		b, err := os.ReadFile(file.V.String())
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", file.Key, err))
			continue
		}
		f.V.Set(reflect.ValueOf(Secret(trimNewline(string(b)))))
	}
	return errors.Join(errs...)
}

func trimNewline(s string) string {
	s = strings.TrimSuffix(s, "\n")
	return strings.TrimSuffix(s, "\r")
}
