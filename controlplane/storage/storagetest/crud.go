package storagetest

import (
	"context"
	"errors"
	"testing"

	"rudder/controlplane/storage"
)

// testWriteErrors checks each refused call and that it changes nothing.
func testWriteErrors(t *testing.T, open Opener) {
	s := openStore(t, open)
	rev := mustCreate(t, s, "/k", "v")
	stale := rev + 1000
	cases := []struct {
		name string
		call func(ctx context.Context) error
		want error
	}{
		{"get missing", func(ctx context.Context) error { _, err := s.Get(ctx, "/missing"); return err }, storage.ErrNotFound},
		{"create existing", func(ctx context.Context) error { _, err := s.Create(ctx, "/k", []byte("x")); return err }, storage.ErrExists},
		{"update missing", func(ctx context.Context) error { _, err := s.Update(ctx, "/missing", nil, 0); return err }, storage.ErrNotFound},
		{"update missing at revision", func(ctx context.Context) error { _, err := s.Update(ctx, "/missing", nil, rev); return err }, storage.ErrNotFound},
		{"update stale revision", func(ctx context.Context) error { _, err := s.Update(ctx, "/k", []byte("x"), stale); return err }, storage.ErrConflict},
		{"delete missing", func(ctx context.Context) error { _, _, err := s.Delete(ctx, "/missing", 0); return err }, storage.ErrNotFound},
		{"delete stale revision", func(ctx context.Context) error { _, _, err := s.Delete(ctx, "/k", stale); return err }, storage.ErrConflict},
		{"create relative key", func(ctx context.Context) error { _, err := s.Create(ctx, "k", nil); return err }, storage.ErrInvalidKey},
		{"list relative prefix", func(ctx context.Context) error { _, err := s.List(ctx, "k/", storage.ListOptions{}); return err }, storage.ErrInvalidKey},
		{"list future revision", func(ctx context.Context) error {
			_, err := s.List(ctx, "/", storage.ListOptions{Revision: stale})
			return err
		}, storage.ErrFuture},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, tc.name, tc.call(testContext(t)), tc.want)
		})
	}
	kv, err := s.Get(testContext(t), "/k")
	if err != nil || string(kv.Value) != "v" || kv.ModRevision != rev {
		t.Errorf("after refused writes Get(/k) = %+v, %v; want v at %d", kv, err, rev)
	}
	if got := mustRevision(t, s); got != rev {
		t.Errorf("after refused writes Revision() = %d, want %d", got, rev)
	}
}

// testLifecycle walks one key through create, updates, delete, re-create.
func testLifecycle(t *testing.T, open Opener) {
	s := openStore(t, open)
	ctx := testContext(t)
	get := func(want string) *storage.KeyValue {
		t.Helper()
		kv, err := s.Get(ctx, "/k")
		if err != nil || string(kv.Value) != want || kv.Key != "/k" {
			t.Fatalf("Get(/k) = %+v, %v; want value %q", kv, err, want)
		}
		return kv
	}
	r1 := mustCreate(t, s, "/k", "v1")
	if kv := get("v1"); kv.CreateRevision != r1 || kv.ModRevision != r1 {
		t.Errorf("after create: revisions %d/%d, want %d/%d", kv.CreateRevision, kv.ModRevision, r1, r1)
	}
	r2 := mustUpdate(t, s, "/k", "v2", r1)
	if kv := get("v2"); r2 <= r1 || kv.CreateRevision != r1 || kv.ModRevision != r2 {
		t.Errorf("after update: revisions %d/%d, want %d/%d (> %d)", kv.CreateRevision, kv.ModRevision, r1, r2, r1)
	}
	r3 := mustUpdate(t, s, "/k", "v3", 0)
	get("v3")
	r4, removed := mustDelete(t, s, "/k", r3)
	if r4 <= r3 || removed == nil || kvString(*removed) != kvString(storage.KeyValue{Key: "/k", Value: []byte("v3"), CreateRevision: r1, ModRevision: r3}) {
		t.Errorf("Delete = %d, %+v; want > %d and /k=v3@%d/%d", r4, removed, r3, r1, r3)
	}
	if _, err := s.Get(ctx, "/k"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get after delete: %v, want ErrNotFound", err)
	}
	r5 := mustCreate(t, s, "/k", "v4")
	if kv := get("v4"); r5 <= r4 || kv.CreateRevision != r5 {
		t.Errorf("re-create: CreateRevision %d, want %d (> %d)", kv.CreateRevision, r5, r4)
	}
	if _, kv := mustDelete(t, s, "/k", 0); string(kv.Value) != "v4" {
		t.Errorf("unconditional delete removed %q, want v4", kv.Value)
	}
}

// testRevisionMonotonic checks that every write gets a higher revision
// and that Revision and List report the last one.
func testRevisionMonotonic(t *testing.T, open Opener) {
	s := openStore(t, open)
	last := mustRevision(t, s)
	for i := range 20 {
		key := "/m/" + string(rune('a'+i%5))
		var rev int64
		switch kv, err := s.Get(testContext(t), key); {
		case err != nil:
			rev = mustCreate(t, s, key, "x")
		case i%3 == 0:
			rev, _ = mustDelete(t, s, key, kv.ModRevision)
		default:
			rev = mustUpdate(t, s, key, "y", kv.ModRevision)
		}
		if rev <= last {
			t.Fatalf("write %d got revision %d, not above %d", i, rev, last)
		}
		last = rev
		if got := mustRevision(t, s); got != rev {
			t.Fatalf("Revision() = %d after a write at %d", got, rev)
		}
	}
	if res := mustList(t, s, "/m/", storage.ListOptions{}); res.Revision != last {
		t.Errorf("List revision %d, want %d", res.Revision, last)
	}
}
