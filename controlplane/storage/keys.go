package storage

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidKey is returned for a key or prefix that is not a '/'-path.
var ErrInvalidKey = errors.New("invalid key")

// CheckKey reports whether key can be stored: it must start with '/'
// (as in "/registry/pods/default/web-0"). Backends check it on every call.
func CheckKey(key string) error {
	if !strings.HasPrefix(key, "/") {
		return fmt.Errorf("%w %q: must start with '/'", ErrInvalidKey, key)
	}
	return nil
}

// CheckPrefix reports whether prefix can select keys in List and Watch:
// empty (every key) or starting with '/'.
func CheckPrefix(prefix string) error {
	if prefix != "" && !strings.HasPrefix(prefix, "/") {
		return fmt.Errorf("%w prefix %q: must be empty or start with '/'", ErrInvalidKey, prefix)
	}
	return nil
}
