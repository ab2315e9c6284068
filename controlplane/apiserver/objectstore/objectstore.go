// Package objectstore keeps typed API objects in a storage.Store: it builds
// the keys, encodes objects as JSON, stamps resourceVersion from the store
// revision and retries read-modify-write cycles on conflicts.
package objectstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"rudder/controlplane/catalog"
	"rudder/controlplane/storage"
)

// DefaultPrefix is where objects live in the key space, as upstream.
const DefaultPrefix = "/registry"

// Config configures a Store.
type Config struct {
	KV     storage.Store
	Scheme *runtime.Scheme
	Prefix string // DefaultPrefix if empty
}

// Store reads and writes typed objects.
type Store struct {
	kv     storage.Store
	scheme *runtime.Scheme
	prefix string
}

// New returns a Store.
func New(cfg Config) *Store {
	p := cfg.Prefix
	if p == "" {
		p = DefaultPrefix
	}
	return &Store{kv: cfg.KV, scheme: cfg.Scheme, prefix: p}
}

// KV returns the underlying key-value store.
func (s *Store) KV() storage.Store { return s.kv }

func groupDir(gvr schema.GroupVersionResource) string {
	if gvr.Group == "" {
		return "core"
	}
	return gvr.Group
}

// Key returns the storage key of one object.
func (s *Store) Key(r catalog.Resource, namespace, name string) string {
	if r.Namespaced {
		return fmt.Sprintf("%s/%s/%s/%s/%s", s.prefix, groupDir(r.GroupVersionResource), r.Resource, namespace, name)
	}
	return fmt.Sprintf("%s/%s/%s/%s", s.prefix, groupDir(r.GroupVersionResource), r.Resource, name)
}

// Prefix returns the key prefix of a resource in one namespace ("" = all).
func (s *Store) Prefix(r catalog.Resource, namespace string) string {
	p := fmt.Sprintf("%s/%s/%s/", s.prefix, groupDir(r.GroupVersionResource), r.Resource)
	if r.Namespaced && namespace != "" {
		p += namespace + "/"
	}
	return p
}

// New returns an empty typed object of the resource's kind.
func (s *Store) New(r catalog.Resource) (runtime.Object, error) {
	obj, err := s.scheme.New(r.GVK())
	if err != nil {
		return nil, fmt.Errorf("new %s: %w", r.GVK(), err)
	}
	return obj, nil
}

// NewList returns an empty typed list of the resource's kind.
func (s *Store) NewList(r catalog.Resource) (runtime.Object, error) {
	gvk := r.GVK()
	gvk.Kind += "List"
	obj, err := s.scheme.New(gvk)
	if err != nil {
		return nil, fmt.Errorf("new %s: %w", gvk, err)
	}
	obj.GetObjectKind().SetGroupVersionKind(gvk)
	return obj, nil
}

// Decode turns a stored value into a typed object carrying rev as its
// resourceVersion.
func (s *Store) Decode(r catalog.Resource, value []byte, rev int64) (runtime.Object, error) {
	obj, err := s.New(r)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(value, obj); err != nil {
		return nil, fmt.Errorf("decode stored %s: %w", r.Kind, err)
	}
	obj.GetObjectKind().SetGroupVersionKind(r.GVK())
	if err := SetResourceVersion(obj, rev); err != nil {
		return nil, err
	}
	return obj, nil
}

// Encode turns an object into the stored value (without resourceVersion,
// which the store revision carries).
func (s *Store) Encode(r catalog.Resource, obj runtime.Object) ([]byte, error) {
	acc, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	rv := acc.GetResourceVersion()
	acc.SetResourceVersion("")
	defer acc.SetResourceVersion(rv)
	obj.GetObjectKind().SetGroupVersionKind(r.GVK())
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", r.Kind, err)
	}
	return b, nil
}

// SetResourceVersion stamps rev on obj.
func SetResourceVersion(obj runtime.Object, rev int64) error {
	acc, err := meta.Accessor(obj)
	if err != nil {
		return err
	}
	acc.SetResourceVersion(strconv.FormatInt(rev, 10))
	return nil
}

// ParseResourceVersion parses a resourceVersion ("" = 0).
func ParseResourceVersion(rv string) (int64, error) {
	if rv == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(rv, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid resource version %q", rv)
	}
	return n, nil
}

// Get reads one object.
func (s *Store) Get(ctx context.Context, r catalog.Resource, namespace, name string) (runtime.Object, error) {
	kv, err := s.kv.Get(ctx, s.Key(r, namespace, name))
	if err != nil {
		return nil, err
	}
	return s.Decode(r, kv.Value, kv.ModRevision)
}

// Create stores a new object and stamps its resourceVersion.
func (s *Store) Create(ctx context.Context, r catalog.Resource, namespace, name string, obj runtime.Object) error {
	b, err := s.Encode(r, obj)
	if err != nil {
		return err
	}
	rev, err := s.kv.Create(ctx, s.Key(r, namespace, name), b)
	if err != nil {
		return err
	}
	return SetResourceVersion(obj, rev)
}

// Update replaces an object if its resourceVersion still matches
// (storage.ErrConflict otherwise) and stamps the new one. An empty
// resourceVersion updates unconditionally.
func (s *Store) Update(ctx context.Context, r catalog.Resource, namespace, name string, obj runtime.Object) error {
	acc, err := meta.Accessor(obj)
	if err != nil {
		return err
	}
	expected, err := ParseResourceVersion(acc.GetResourceVersion())
	if err != nil {
		return err
	}
	b, err := s.Encode(r, obj)
	if err != nil {
		return err
	}
	rev, err := s.kv.Update(ctx, s.Key(r, namespace, name), b, expected)
	if err != nil {
		return err
	}
	return SetResourceVersion(obj, rev)
}

// UpdateFunc turns the current object into the next one. Returning
// ErrNoChange keeps the object as it is.
type UpdateFunc func(current runtime.Object) (runtime.Object, error)

// ErrNoChange tells GuaranteedUpdate that the object needs no write.
var ErrNoChange = errors.New("no change")

// GuaranteedUpdate reads the object, applies fn and writes the result,
// retrying from a fresh read when another writer got there first.
func (s *Store) GuaranteedUpdate(ctx context.Context, r catalog.Resource, namespace, name string, fn UpdateFunc) (runtime.Object, error) {
	for attempt := 0; ; attempt++ {
		cur, err := s.Get(ctx, r, namespace, name)
		if err != nil {
			return nil, err
		}
		acc, _ := meta.Accessor(cur)
		rv := acc.GetResourceVersion()
		next, err := fn(cur.DeepCopyObject())
		if errors.Is(err, ErrNoChange) {
			return cur, nil
		}
		if err != nil {
			return nil, err
		}
		nacc, err := meta.Accessor(next)
		if err != nil {
			return nil, err
		}
		nacc.SetResourceVersion(rv)
		err = s.Update(ctx, r, namespace, name, next)
		if errors.Is(err, storage.ErrConflict) && attempt < 100 {
			continue
		}
		if err != nil {
			return nil, err
		}
		return next, nil
	}
}

// Delete removes an object if its resourceVersion matches expected (0:
// any) and returns the last state with the delete's resourceVersion.
func (s *Store) Delete(ctx context.Context, r catalog.Resource, namespace, name string, expected int64) (runtime.Object, error) {
	rev, prev, err := s.kv.Delete(ctx, s.Key(r, namespace, name), expected)
	if err != nil {
		return nil, err
	}
	return s.Decode(r, prev.Value, rev)
}

// ListResult is a page of objects.
type ListResult struct {
	Items     []runtime.Object
	Revision  int64
	More      bool
	LastKey   string
	Remaining int64
}

// List reads the objects of a resource in one namespace ("" = all).
func (s *Store) List(ctx context.Context, r catalog.Resource, namespace string, opts storage.ListOptions) (*ListResult, error) {
	res, err := s.kv.List(ctx, s.Prefix(r, namespace), opts)
	if err != nil {
		return nil, err
	}
	out := &ListResult{Revision: res.Revision, More: res.More, Remaining: res.Remaining}
	for _, kv := range res.Items {
		obj, err := s.Decode(r, kv.Value, kv.ModRevision)
		if err != nil {
			return nil, err
		}
		out.Items = append(out.Items, obj)
		out.LastKey = kv.Key
	}
	return out, nil
}
