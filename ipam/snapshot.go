package ipam

import (
	"encoding/json"
	"fmt"
)

// rangeSnapshot is the stored form of a range: what it covers (so that a
// snapshot of another CIDR or port range is refused) and the bitmap.
type rangeSnapshot struct {
	Range string `json:"range"`
	Data  []byte `json:"data"`
}

func snapshotJSON(spec string, bm *Bitmap) []byte {
	out, _ := json.Marshal(rangeSnapshot{Range: spec, Data: bm.Snapshot()})
	return out // marshalling a string and a []byte cannot fail
}

func restoreSnapshot(data []byte, spec string, bm *Bitmap) error {
	var s rangeSnapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("restore %s: %w", spec, err)
	}
	if s.Range != spec {
		return fmt.Errorf("restore %s from a snapshot of %s: %w", spec, s.Range, ErrMismatch)
	}
	if err := bm.Restore(s.Data); err != nil {
		return fmt.Errorf("restore %s: %w", spec, err)
	}
	return nil
}
