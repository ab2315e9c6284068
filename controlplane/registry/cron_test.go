package registry

import (
	"strings"
	"testing"
	"time"
)

func TestParseCronSchedule(t *testing.T) {
	for _, tc := range []struct {
		spec    string
		wantErr string
	}{
		{spec: "* * * * *"},
		{spec: "*/5 0-6,22-23 1,15 JAN-jun mon-FRI"},
		{spec: "0 0 ? * 7"},
		{spec: "5/15 * * * *"},
		{spec: "@weekly"},
		{spec: "@every 90s"},
		{spec: "", wantErr: "empty spec string"},
		{spec: "* * * *", wantErr: "expected exactly 5 fields, found 4"},
		{spec: "60 * * * *", wantErr: "end of range (60) above maximum (59)"},
		{spec: "* * 0 * *", wantErr: "beginning of range (0) below minimum (1)"},
		{spec: "5-1 * * * *", wantErr: "beginning of range (5) beyond end of range (1)"},
		{spec: "*/0 * * * *", wantErr: "step of range should be a positive number"},
		{spec: "1-2-3 * * * *", wantErr: "too many hyphens"},
		{spec: "*/2/3 * * * *", wantErr: "too many slashes"},
		{spec: "x * * * *", wantErr: "failed to parse int from x"},
		{spec: "@fortnightly", wantErr: "unrecognized descriptor: @fortnightly"},
		{spec: "@every 1ms", wantErr: "at least 1 second"},
	} {
		_, err := ParseCronSchedule(tc.spec)
		if tc.wantErr == "" && err != nil {
			t.Errorf("ParseCronSchedule(%q): %v", tc.spec, err)
		}
		if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("ParseCronSchedule(%q) = %v, want %q", tc.spec, err, tc.wantErr)
		}
	}
}

func TestCronNext(t *testing.T) {
	from := time.Date(2026, 3, 14, 10, 17, 30, 0, time.UTC) // a Saturday
	for _, tc := range []struct {
		spec string
		want time.Time
	}{
		{"* * * * *", time.Date(2026, 3, 14, 10, 18, 0, 0, time.UTC)},
		{"*/15 * * * *", time.Date(2026, 3, 14, 10, 30, 0, 0, time.UTC)},
		{"0 3 * * *", time.Date(2026, 3, 15, 3, 0, 0, 0, time.UTC)},
		{"0 0 * * mon", time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC)},
		{"0 0 1 * *", time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)},
		{"0 0 13 * 5", time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC)}, // day 13 OR a Friday
		{"@yearly", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"@every 1h", from.Add(time.Hour)},
		{"0 0 30 2 *", time.Time{}},
	} {
		s, err := ParseCronSchedule(tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Next(from); !got.Equal(tc.want) {
			t.Errorf("%q.Next(%v) = %v, want %v", tc.spec, from, got, tc.want)
		}
	}
}
