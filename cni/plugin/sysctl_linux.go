package plugin

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// EnsureSysctls writes each value that differs, in the namespace the
// process runs in (/proc/sys/net is per network namespace).
func (n *Netlink) EnsureSysctls(s []Sysctl) error {
	for _, kv := range s {
		path := filepath.Join(n.procSys, kv.Key)
		cur, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) && strings.HasPrefix(kv.Key, "net/bridge/") {
			return fmt.Errorf("set %s: %s is missing: load the br_netfilter module (modprobe br_netfilter)", kv.Key, path)
		}
		if err != nil {
			return fmt.Errorf("read sysctl %s: %w", kv.Key, err)
		}
		if strings.TrimSpace(string(cur)) == kv.Value {
			continue
		}
		if err := os.WriteFile(path, []byte(kv.Value), 0o644); err != nil {
			return fmt.Errorf("set sysctl %s=%s: %w", kv.Key, kv.Value, err)
		}
	}
	return nil
}
