package hostlocal

import (
	"errors"
	"fmt"
	"net/netip"
)

// Attachment is what a reservation belongs to: one interface of one
// container, as CNI names it.
type Attachment struct {
	ContainerID string `json:"containerID"`
	IfName      string `json:"ifname"`
}

func (a Attachment) String() string {
	return fmt.Sprintf("container %s interface %s", a.ContainerID, a.IfName)
}

// Reservation is one address held by one attachment.
type Reservation struct {
	IP         netip.Addr
	Attachment Attachment
}

// Store records reservations. Every method but Lock, Unlock and Close
// expects the caller to hold the lock, which excludes every other user of
// the same store, in this process or another.
type Store interface {
	Lock() error
	Unlock() error
	// Reserve records ip for a and remembers ip as the last one reserved
	// in rangeID. It returns false, and changes nothing, if ip is taken.
	Reserve(a Attachment, ip netip.Addr, rangeID string) (bool, error)
	// LastReservedIP returns the last address reserved in rangeID, or the
	// zero Addr if none was.
	LastReservedIP(rangeID string) (netip.Addr, error)
	// ReleaseByID frees every address a holds; none is not an error.
	ReleaseByID(a Attachment) error
	// GetByID returns the addresses a holds.
	GetByID(a Attachment) ([]netip.Addr, error)
	// List returns every reservation, for garbage collection.
	List() ([]Reservation, error)
	Close() error
}

// Errors of the allocator (wrapped; test with errors.Is).
var (
	// ErrExhausted: every address of the range set is taken.
	ErrExhausted = errors.New("no IP addresses available")
	// ErrAttachmentExists: the attachment already holds an address; the
	// runtime must DEL it before adding it again.
	ErrAttachmentExists = errors.New("attachment already holds an address")
)

// WithLock runs fn while holding s's lock.
func WithLock(s Store, fn func() error) (err error) {
	if err := s.Lock(); err != nil {
		return fmt.Errorf("lock IPAM store: %w", err)
	}
	defer func() {
		if uerr := s.Unlock(); uerr != nil && err == nil {
			err = fmt.Errorf("unlock IPAM store: %w", uerr)
		}
	}()
	return fn()
}
