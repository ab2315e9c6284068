package hostlocal

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
)

// DefaultDataDir is where DiskStore keeps one directory per network, as
// upstream host-local does.
const DefaultDataDir = "/var/lib/cni/networks"

const (
	lockFile       = "lock"
	lastIPPrefix   = "last_reserved_ip."
	tempFilePrefix = ".tmp-"
)

// DiskStoreConfig says where a DiskStore lives.
type DiskStoreConfig struct {
	// DataDir holds one directory per network; DefaultDataDir if empty.
	DataDir string
	// Network names the directory; a CNI network name.
	Network string
}

// DiskStore keeps reservations in DataDir/Network: a file per reserved
// address (named by the address, holding "containerID\nifname\n"),
// last_reserved_ip.<rangeID>, and a lock file that every process using the
// store flocks. Writes are fsync'd and published by link or rename, so a
// crash leaves either the whole reservation or none.
type DiskStore struct {
	dir  string
	mu   sync.Mutex // flock excludes processes; mu excludes goroutines
	lock *os.File
}

// NewDiskStore creates the network's directory if needed and opens its
// lock file.
func NewDiskStore(cfg DiskStoreConfig) (*DiskStore, error) {
	if cfg.Network == "" || strings.ContainsAny(cfg.Network, `/\`) || strings.HasPrefix(cfg.Network, ".") {
		return nil, fmt.Errorf("open IPAM store: bad network name %q", cfg.Network)
	}
	root := cfg.DataDir
	if root == "" {
		root = DefaultDataDir
	}
	dir := filepath.Join(root, cfg.Network)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("open IPAM store: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open IPAM store lock: %w", err)
	}
	return &DiskStore{dir: dir, lock: f}, nil
}

// Dir returns the network's directory.
func (d *DiskStore) Dir() string { return d.dir }

// Lock takes the store's lock, waiting for other goroutines and processes.
func (d *DiskStore) Lock() error {
	d.mu.Lock()
	if err := flock(d.lock, syscall.LOCK_EX); err != nil {
		d.mu.Unlock()
		return fmt.Errorf("flock %s: %w", d.lock.Name(), err)
	}
	return nil
}

// Unlock releases it.
func (d *DiskStore) Unlock() error {
	defer d.mu.Unlock()
	if err := flock(d.lock, syscall.LOCK_UN); err != nil {
		return fmt.Errorf("unlock %s: %w", d.lock.Name(), err)
	}
	return nil
}

func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// Close closes the lock file (which also drops a held flock).
func (d *DiskStore) Close() error { return d.lock.Close() }

// Reserve writes the reservation file for ip unless one exists.
func (d *DiskStore) Reserve(a Attachment, ip netip.Addr, rangeID string) (bool, error) {
	path := filepath.Join(d.dir, ip.String())
	ok, err := d.publish(path, encodeAttachment(a), false)
	if err != nil || !ok {
		return false, err
	}
	if _, err := d.publish(filepath.Join(d.dir, lastIPPrefix+rangeID), []byte(ip.String()), true); err != nil {
		_ = os.Remove(path)
		return false, err
	}
	return true, d.syncDir()
}

// publish writes data to a temp file, fsyncs it and puts it at path:
// replacing what is there, or (replace false) only if nothing is, in which
// case it returns false when path exists.
func (d *DiskStore) publish(path string, data []byte, replace bool) (bool, error) {
	tmp, err := os.CreateTemp(d.dir, tempFilePrefix)
	if err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if replace {
		err = os.Rename(tmp.Name(), path)
	} else {
		err = os.Link(tmp.Name(), path)
	}
	if errors.Is(err, os.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	return true, nil
}

func (d *DiskStore) syncDir() error {
	f, err := os.Open(d.dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", d.dir, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", d.dir, err)
	}
	return nil
}

// LastReservedIP reads last_reserved_ip.<rangeID>.
func (d *DiskStore) LastReservedIP(rangeID string) (netip.Addr, error) {
	data, err := os.ReadFile(filepath.Join(d.dir, lastIPPrefix+rangeID))
	if errors.Is(err, os.ErrNotExist) {
		return netip.Addr{}, nil
	}
	if err != nil {
		return netip.Addr{}, err
	}
	ip, err := netip.ParseAddr(string(bytes.TrimSpace(data)))
	if err != nil {
		return netip.Addr{}, nil // a damaged hint only costs round-robin order
	}
	return ip, nil
}

// ReleaseByID removes every reservation file of a.
func (d *DiskStore) ReleaseByID(a Attachment) error {
	all, err := d.List()
	if err != nil {
		return err
	}
	removed := false
	for _, r := range all {
		if r.Attachment != a {
			continue
		}
		if err := os.Remove(filepath.Join(d.dir, r.IP.String())); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("release %s: %w", r.IP, err)
		}
		removed = true
	}
	if !removed {
		return nil
	}
	return d.syncDir()
}

// GetByID returns the addresses of a, lowest first.
func (d *DiskStore) GetByID(a Attachment) ([]netip.Addr, error) {
	all, err := d.List()
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	for _, r := range all {
		if r.Attachment == a {
			out = append(out, r.IP)
		}
	}
	return out, nil
}

// List reads every reservation file, lowest address first.
func (d *DiskStore) List() ([]Reservation, error) {
	entries, err := os.ReadDir(d.dir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", d.dir, err)
	}
	var out []Reservation
	for _, e := range entries {
		ip, err := netip.ParseAddr(e.Name())
		if err != nil || !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(d.dir, e.Name()))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read reservation %s: %w", e.Name(), err)
		}
		out = append(out, Reservation{IP: ip, Attachment: decodeAttachment(data)})
	}
	slices.SortFunc(out, func(x, y Reservation) int { return x.IP.Compare(y.IP) })
	return out, nil
}

func encodeAttachment(a Attachment) []byte {
	return []byte(a.ContainerID + "\n" + a.IfName + "\n")
}

// decodeAttachment reads "id\nifname\n", and upstream's "id\r\nifname".
func decodeAttachment(data []byte) Attachment {
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	a := Attachment{ContainerID: strings.TrimSpace(lines[0])}
	if len(lines) > 1 {
		a.IfName = strings.TrimSpace(lines[1])
	}
	return a
}
