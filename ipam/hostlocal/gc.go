package hostlocal

import (
	"errors"
	"fmt"
)

// GC releases every reservation of s whose attachment is not in valid and
// returns what it released. It takes the store's lock itself and goes on
// past errors, reporting them all at the end.
func GC(s Store, valid []Attachment) ([]Reservation, error) {
	keep := make(map[Attachment]bool, len(valid))
	for _, a := range valid {
		keep[a] = true
	}
	var released []Reservation
	err := WithLock(s, func() error {
		all, err := s.List()
		if err != nil {
			return fmt.Errorf("list reservations: %w", err)
		}
		var errs []error
		done := map[Attachment]bool{}
		for _, r := range all {
			if keep[r.Attachment] {
				continue
			}
			if !done[r.Attachment] {
				done[r.Attachment] = true
				if err := s.ReleaseByID(r.Attachment); err != nil {
					errs = append(errs, fmt.Errorf("release %s of %s: %w", r.IP, r.Attachment, err))
					continue
				}
			}
			released = append(released, r)
		}
		return errors.Join(errs...)
	})
	return released, err
}
