package main

import (
	"fmt"
	"os"
	"sort"

	"github.com/spf13/pflag"
	"sigs.k8s.io/yaml"
)

// applyConfigFile sets flags from a YAML file whose keys are the flags'
// names (`cluster-domain: cluster.local`, `upstream: [10.0.0.2:53]`).
// Flags given on the command line win over the file; a key that names no
// flag is an error, so a typo does not silently leave a default in place.
func applyConfigFile(fs *pflag.FlagSet, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read config file: %w", err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f := fs.Lookup(k)
		if f == nil || k == "config" {
			return fmt.Errorf("config file %s: unknown key %q (keys are the command's flag names)", path, k)
		}
		if f.Changed {
			continue
		}
		if err := setFlag(fs, k, m[k]); err != nil {
			return fmt.Errorf("config file %s: %s: %w", path, k, err)
		}
	}
	return nil
}

// setFlag sets one flag from a decoded YAML value: a list sets a slice
// flag item by item, anything else by its text.
func setFlag(fs *pflag.FlagSet, name string, v any) error {
	items, isList := v.([]any)
	if !isList {
		items = []any{v}
	}
	if v == nil {
		return fmt.Errorf("no value")
	}
	for _, it := range items {
		switch it.(type) {
		case map[string]any, []any:
			return fmt.Errorf("want a scalar or a list of scalars, got %T", it)
		}
		if err := fs.Set(name, fmt.Sprint(it)); err != nil {
			return err
		}
	}
	return nil
}
