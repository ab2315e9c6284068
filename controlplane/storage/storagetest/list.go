package storagetest

import (
	"errors"
	"slices"
	"testing"

	"rudder/controlplane/storage"
)

// listKeys are seeded for testList: note "/a" and "/ab/1", which "/a/"
// must not select.
var listKeys = []string{"/a/2", "/a/1", "/ab/1", "/a", "/a/sub/x", "/b/1", "/a/3"}

func testList(t *testing.T, open Opener) {
	s := openStore(t, open)
	created := map[string]int64{}
	for _, k := range listKeys {
		created[k] = mustCreate(t, s, k, "v:"+k)
	}
	rev := mustRevision(t, s)
	cases := []struct {
		name      string
		prefix    string
		opts      storage.ListOptions
		want      []string
		remaining int64
	}{
		{"subtree", "/a/", storage.ListOptions{}, []string{"/a/1", "/a/2", "/a/3", "/a/sub/x"}, 0},
		{"sibling prefix", "/ab/", storage.ListOptions{}, []string{"/ab/1"}, 0},
		{"nested subtree", "/a/sub/", storage.ListOptions{}, []string{"/a/sub/x"}, 0},
		{"everything", "", storage.ListOptions{}, []string{"/a", "/a/1", "/a/2", "/a/3", "/a/sub/x", "/ab/1", "/b/1"}, 0},
		{"no match", "/none/", storage.ListOptions{}, []string{}, 0},
		{"limit", "/a/", storage.ListOptions{Limit: 2}, []string{"/a/1", "/a/2"}, 2},
		{"limit equal to count", "/a/", storage.ListOptions{Limit: 4}, []string{"/a/1", "/a/2", "/a/3", "/a/sub/x"}, 0},
		{"limit above count", "/a/", storage.ListOptions{Limit: 100}, []string{"/a/1", "/a/2", "/a/3", "/a/sub/x"}, 0},
		{"start key", "/a/", storage.ListOptions{StartKey: "/a/2"}, []string{"/a/3", "/a/sub/x"}, 0},
		{"start key and limit", "/a/", storage.ListOptions{StartKey: "/a/1", Limit: 1}, []string{"/a/2"}, 2},
		{"start key absent", "/a/", storage.ListOptions{StartKey: "/a/25"}, []string{"/a/3", "/a/sub/x"}, 0},
		{"start key before prefix", "/a/", storage.ListOptions{StartKey: "/0"}, []string{"/a/1", "/a/2", "/a/3", "/a/sub/x"}, 0},
		{"start key last", "/a/", storage.ListOptions{StartKey: "/a/sub/x"}, []string{}, 0},
		{"start key after prefix", "/a/", storage.ListOptions{StartKey: "/b"}, []string{}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := mustList(t, s, tc.prefix, tc.opts)
			var got []string
			for _, kv := range res.Items {
				got = append(got, kv.Key)
				if string(kv.Value) != "v:"+kv.Key || kv.CreateRevision != created[kv.Key] || kv.ModRevision != created[kv.Key] {
					t.Errorf("item %s, want value v:%s at %d", kvString(kv), kv.Key, created[kv.Key])
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("keys %q, want %q", got, tc.want)
			}
			if res.More != (tc.remaining > 0) || res.Remaining != tc.remaining {
				t.Errorf("More=%v Remaining=%d, want %v %d", res.More, res.Remaining, tc.remaining > 0, tc.remaining)
			}
			if res.Revision != rev {
				t.Errorf("Revision %d, want %d", res.Revision, rev)
			}
		})
	}
}

// testListAtRevision lists the past after updates, deletes and creates.
func testListAtRevision(t *testing.T, open Opener) {
	s := openStore(t, open)
	before := mustRevision(t, s)
	ra := mustCreate(t, s, "/h/a", "a1")
	rb := mustCreate(t, s, "/h/b", "b1")
	rc := mustCreate(t, s, "/h/c", "c1")
	old := mustRevision(t, s)
	ra2 := mustUpdate(t, s, "/h/a", "a2", ra)
	mid := mustRevision(t, s)
	mustDelete(t, s, "/h/b", rb)
	rd := mustCreate(t, s, "/h/d", "d1")
	mustUpdate(t, s, "/h/c", "c2", rc)
	mustDelete(t, s, "/h/c", 0)
	mustCreate(t, s, "/hx/z", "outside")
	now := mustRevision(t, s)

	kv := func(key, value string, create, mod int64) string {
		return kvString(storage.KeyValue{Key: key, Value: []byte(value), CreateRevision: create, ModRevision: mod})
	}
	cases := []struct {
		name string
		opts storage.ListOptions
		want []string
		more bool
	}{
		{"before the writes", storage.ListOptions{Revision: before}, nil, false},
		{"old", storage.ListOptions{Revision: old}, []string{kv("/h/a", "a1", ra, ra), kv("/h/b", "b1", rb, rb), kv("/h/c", "c1", rc, rc)}, false},
		{"middle", storage.ListOptions{Revision: mid}, []string{kv("/h/a", "a2", ra, ra2), kv("/h/b", "b1", rb, rb), kv("/h/c", "c1", rc, rc)}, false},
		{"old with limit", storage.ListOptions{Revision: old, Limit: 2}, []string{kv("/h/a", "a1", ra, ra), kv("/h/b", "b1", rb, rb)}, true},
		{"old from start key", storage.ListOptions{Revision: old, StartKey: "/h/a"}, []string{kv("/h/b", "b1", rb, rb), kv("/h/c", "c1", rc, rc)}, false},
		{"current by number", storage.ListOptions{Revision: now}, []string{kv("/h/a", "a2", ra, ra2), kv("/h/d", "d1", rd, rd)}, false},
		{"current", storage.ListOptions{}, []string{kv("/h/a", "a2", ra, ra2), kv("/h/d", "d1", rd, rd)}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := mustList(t, s, "/h/", tc.opts)
			var got []string
			for _, item := range res.Items {
				got = append(got, kvString(item))
			}
			if !slices.Equal(got, tc.want) || res.More != tc.more {
				t.Errorf("got %q more=%v, want %q more=%v", got, res.More, tc.want, tc.more)
			}
			wantRev := tc.opts.Revision
			if wantRev == 0 {
				wantRev = now
			}
			if res.Revision != wantRev {
				t.Errorf("Revision %d, want %d", res.Revision, wantRev)
			}
		})
	}
	if _, err := s.List(testContext(t), "/h/", storage.ListOptions{Revision: now + 1}); !errors.Is(err, storage.ErrFuture) {
		t.Errorf("List above the current revision: %v, want ErrFuture", err)
	}
}
