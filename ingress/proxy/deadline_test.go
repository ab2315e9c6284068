package proxy

import (
	"testing"
	"time"
)

func TestDeadlineExtend(t *testing.T) {
	t0 := time.Unix(1000, 0)
	const d = 64 * time.Second
	for _, tc := range []struct {
		name    string
		at      time.Time // set before
		now     time.Time
		wantSet bool
	}{
		{"none set yet", time.Time{}, t0, true},
		{"set just now", t0.Add(d), t0, false},
		{"less than d/64 ago", t0.Add(d), t0.Add(999 * time.Millisecond), false},
		{"d/64 ago", t0.Add(d), t0.Add(time.Second), true},
		{"passed", t0.Add(d), t0.Add(2 * d), true},
		{"a later deadline (another timeout)", t0.Add(2 * d), t0, true},
		{"an earlier deadline (the header timeout)", t0.Add(time.Second), t0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dl := deadline{at: tc.at}
			var got []time.Time
			dl.extend(func(at time.Time) error { got = append(got, at); return nil }, tc.now, d)
			if set := len(got) == 1; set != tc.wantSet {
				t.Fatalf("set = %v (%v), want %v", set, got, tc.wantSet)
			}
			if tc.wantSet && (!got[0].Equal(tc.now.Add(d)) || !dl.at.Equal(got[0])) {
				t.Errorf("set %v, remembered %v; want %v", got[0], dl.at, tc.now.Add(d))
			}
		})
	}
}
