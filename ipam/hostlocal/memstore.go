package hostlocal

import (
	"net/netip"
	"slices"
	"sync"
)

// MemStore is an in-memory Store for tests: Lock is a mutex, so it
// excludes goroutines of one process only.
type MemStore struct {
	lock sync.Mutex
	mu   sync.Mutex // guards the maps against callers that forget Lock
	byIP map[netip.Addr]Attachment
	last map[string]netip.Addr
}

// NewMemStore returns an empty store.
func NewMemStore() *MemStore {
	return &MemStore{byIP: map[netip.Addr]Attachment{}, last: map[string]netip.Addr{}}
}

// Lock takes the store's lock.
func (m *MemStore) Lock() error { m.lock.Lock(); return nil }

// Unlock releases it.
func (m *MemStore) Unlock() error { m.lock.Unlock(); return nil }

// Close does nothing.
func (m *MemStore) Close() error { return nil }

// Reserve records ip for a unless it is taken.
func (m *MemStore) Reserve(a Attachment, ip netip.Addr, rangeID string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, taken := m.byIP[ip]; taken {
		return false, nil
	}
	m.byIP[ip] = a
	m.last[rangeID] = ip
	return true, nil
}

// LastReservedIP returns the last address reserved in rangeID.
func (m *MemStore) LastReservedIP(rangeID string) (netip.Addr, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last[rangeID], nil
}

// ReleaseByID frees every address of a.
func (m *MemStore) ReleaseByID(a Attachment) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for ip, owner := range m.byIP {
		if owner == a {
			delete(m.byIP, ip)
		}
	}
	return nil
}

// GetByID returns the addresses of a, lowest first.
func (m *MemStore) GetByID(a Attachment) ([]netip.Addr, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []netip.Addr
	for ip, owner := range m.byIP {
		if owner == a {
			out = append(out, ip)
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out, nil
}

// List returns every reservation, lowest address first.
func (m *MemStore) List() ([]Reservation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Reservation, 0, len(m.byIP))
	for ip, a := range m.byIP {
		out = append(out, Reservation{IP: ip, Attachment: a})
	}
	slices.SortFunc(out, func(x, y Reservation) int { return x.IP.Compare(y.IP) })
	return out, nil
}
