package mountinfo

import (
	"slices"
	"strings"
	"testing"
)

const sample = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:5 - cgroup2 cgroup2 rw
50 23 0:4 net:[4026532] /run/netns/rdr-abc123-n1 rw shared:5 - nsfs nsfs rw
51 23 0:4 net:[4026533] /tmp/my\040lab/nodes/node-1/netns/pod-a rw - nsfs nsfs rw
52 23 0:4 net:[4026534] /tmp/my\040lab/nodes/node-1/netns rw - tmpfs tmpfs rw
53 23 0:4 net:[4026535] /tmp/my\040labx/other rw - nsfs nsfs rw
`

func TestParse(t *testing.T) {
	ms, err := Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	root, err := Cgroup2(ms)
	if err != nil || root != "/sys/fs/cgroup/unified" {
		t.Fatalf("Cgroup2 = %q, %v", root, err)
	}
	got := Under(ms, "/tmp/my lab/")
	want := []string{"/tmp/my lab/nodes/node-1/netns/pod-a", "/tmp/my lab/nodes/node-1/netns"}
	if !slices.Equal(got, want) {
		t.Fatalf("Under = %q, want %q", got, want)
	}
	if _, err := Cgroup2(ms[:2]); err == nil {
		t.Fatal("Cgroup2 without cgroup2: no error")
	}
	if _, err := Parse(strings.NewReader("garbage\n")); err == nil {
		t.Fatal("garbage mountinfo: no error")
	}
}

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{`/a\040b\134c`: `/a b\c`, `/plain`: `/plain`, `/bad\09x`: `/bad\09x`, `/end\04`: `/end\04`} {
		if got := Unescape(in); got != want {
			t.Errorf("Unescape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReadSelf(t *testing.T) {
	ms, err := Read()
	if err != nil || len(ms) == 0 {
		t.Fatalf("Read: %d mounts, %v", len(ms), err)
	}
}
