package runtime

import (
	"strings"
	"testing"
)

func TestParseCgroup2Mount(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		wantErr        bool
	}{
		{name: "hybrid", in: "25 1 0:22 / /sys rw - sysfs sysfs rw\n" +
			"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:5 - cgroup2 cgroup2 rw\n", want: "/sys/fs/cgroup/unified"},
		{name: "escaped", in: "41 31 0:38 / /my\\040cg rw - cgroup2 none rw\n", want: "/my cg"},
		{name: "v1 only", in: "30 25 0:26 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n", wantErr: true},
		{name: "garbage", in: "x y z\n", wantErr: true},
	} {
		got, err := parseCgroup2Mount(strings.NewReader(tc.in))
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("%s: got %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
}
