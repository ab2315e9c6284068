package apiserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"rudder/controlplane/apiserver/objectstore"
	"rudder/controlplane/registry"
	"rudder/controlplane/storage"
)

// writeOptions are the query options every write takes.
type writeOptions struct {
	dryRun       bool
	fieldManager string
	validation   fieldValidation
	applied      bool // the object came from server-side apply: managedFields are set
}

func parseWriteOptions(r *http.Request) (writeOptions, error) {
	v := r.URL.Query()
	fv, err := parseFieldValidation(r)
	if err != nil {
		return writeOptions{}, err
	}
	o := writeOptions{validation: fv, fieldManager: v.Get("fieldManager")}
	manager := o.fieldManager
	if manager == "" {
		manager = managerFromUserAgent(r)
	}
	for _, d := range v["dryRun"] {
		if d != "All" {
			return o, badRequest("Invalid dryRun value %q: only \"All\" is supported", d)
		}
		o.dryRun = true
	}
	if len(o.fieldManager) > 128 {
		return o, badRequest("fieldManager: Too long: may not be more than 128 bytes")
	}
	if r.Header.Get("Content-Type") != "application/apply-patch+yaml" {
		o.fieldManager = manager
	}
	return o, nil
}

// decodeBody reads and decodes a request body as the resource's kind.
func (s *Server) decodeBody(w http.ResponseWriter, r *http.Request, q *request, fv fieldValidation) (runtime.Object, error) {
	return s.readObject(w, r, kindFor(q.res), fv)
}

func (s *Server) create(w http.ResponseWriter, r *http.Request, q *request) error {
	opts, err := parseWriteOptions(r)
	if err != nil {
		return err
	}
	obj, err := s.decodeBody(w, r, q, opts.validation)
	if err != nil {
		return err
	}
	out, err := s.createObject(r.Context(), q, obj, opts)
	if err != nil {
		return err
	}
	return s.respond(w, r, q, http.StatusCreated, out)
}

// createObject runs the create path on a decoded object: metadata,
// defaulting, validation, admission, allocation, managed fields, storage.
func (s *Server) createObject(ctx context.Context, q *request, obj runtime.Object, opts writeOptions) (runtime.Object, error) {
	acc, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	if err := s.fillCreateMeta(q, acc); err != nil {
		return nil, err
	}
	if err := s.admitNamespace(ctx, q); err != nil {
		return nil, err
	}
	q.strategy.Default(obj)
	q.strategy.PrepareForCreate(obj)
	if pod, ok := obj.(*corev1.Pod); ok {
		if err := s.admitServiceAccount(ctx, q, pod); err != nil {
			return nil, err
		}
	}
	if errs := q.strategy.Validate(obj); len(errs) > 0 {
		return nil, apierrors.NewInvalid(q.res.GVK().GroupKind(), acc.GetName(), errs)
	}
	if !opts.applied {
		if err := s.trackCreate(q, obj, opts.fieldManager); err != nil {
			return nil, err
		}
	}
	if opts.dryRun {
		return obj, nil
	}
	rollback, err := s.allocateCreate(ctx, q, obj)
	if err != nil {
		return nil, err
	}
	if err := s.objects.Create(ctx, q.res, q.namespace, acc.GetName(), obj); err != nil {
		rollback()
		if errors.Is(err, storage.ErrExists) && acc.GetGenerateName() != "" {
			return nil, apierrors.NewServerTimeout(q.gr(), "create", 1)
		}
		return nil, storageErr(err, q.gr(), acc.GetName())
	}
	return obj, nil
}

// fillCreateMeta sets what the server owns on create.
func (s *Server) fillCreateMeta(q *request, acc metav1.Object) error {
	ns := acc.GetNamespace()
	switch {
	case !q.res.Namespaced:
		acc.SetNamespace("")
	case ns == "":
		acc.SetNamespace(q.namespace)
	case ns != q.namespace:
		return badRequest("the namespace of the provided object does not match the namespace sent on the request")
	}
	if acc.GetName() == "" && acc.GetGenerateName() != "" {
		acc.SetName(acc.GetGenerateName() + randomSuffix(5))
	}
	acc.SetUID(types.UID(uuid.NewUUID()))
	acc.SetCreationTimestamp(metav1.NewTime(time.Now().Truncate(time.Second)))
	acc.SetResourceVersion("")
	acc.SetDeletionTimestamp(nil)
	acc.SetDeletionGracePeriodSeconds(nil)
	acc.SetSelfLink("")
	return nil
}

// randomSuffix is upstream's generateName alphabet: no vowels, no
// look-alike digits.
func randomSuffix(n int) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func (s *Server) update(w http.ResponseWriter, r *http.Request, q *request) error {
	opts, err := parseWriteOptions(r)
	if err != nil {
		return err
	}
	obj, err := s.decodeBody(w, r, q, opts.validation)
	if err != nil {
		return err
	}
	acc, _ := meta.Accessor(obj)
	if acc.GetName() != q.name {
		return badRequest("the name of the object (%s) does not match the name on the URL (%s)", acc.GetName(), q.name)
	}
	if q.res.Namespaced && acc.GetNamespace() != "" && acc.GetNamespace() != q.namespace {
		return badRequest("the namespace of the provided object does not match the namespace sent on the request")
	}
	out, code, err := s.updateObject(r.Context(), q, obj, opts)
	if err != nil {
		return err
	}
	return s.respond(w, r, q, code, out)
}

// updateObject replaces the stored object with obj. A resourceVersion in
// obj is a precondition (409 when stale); without one the update is
// unconditional.
func (s *Server) updateObject(ctx context.Context, q *request, obj runtime.Object, opts writeOptions) (runtime.Object, int, error) {
	acc, _ := meta.Accessor(obj)
	wantRV := acc.GetResourceVersion()
	for attempt := 0; ; attempt++ {
		old, err := s.objects.Get(ctx, q.res, q.namespace, q.name)
		if err != nil {
			return nil, 0, storageErr(err, q.gr(), q.name)
		}
		oldAcc, _ := meta.Accessor(old)
		if wantRV != "" && wantRV != oldAcc.GetResourceVersion() {
			return nil, 0, storageErr(storage.ErrConflict, q.gr(), q.name)
		}
		next := obj.DeepCopyObject()
		out, err := s.updateFrom(ctx, q, old, next, opts, "update")
		if errors.Is(err, storage.ErrConflict) && wantRV == "" && attempt < 10 {
			continue
		}
		if err != nil {
			return nil, 0, storageErr(err, q.gr(), q.name)
		}
		return out, http.StatusOK, nil
	}
}

// updateFrom applies the update rules to next (a full new object) given
// the stored old one, and writes it at old's resourceVersion.
func (s *Server) updateFrom(ctx context.Context, q *request, old, next runtime.Object, opts writeOptions, op string) (runtime.Object, error) {
	oldAcc, _ := meta.Accessor(old)
	acc, _ := meta.Accessor(next)
	keepServerMeta(acc, oldAcc, q)
	q.prepareUpdate(next, old)
	if errs := q.validateUpdate(next, old); len(errs) > 0 {
		return nil, apierrors.NewInvalid(q.res.GVK().GroupKind(), q.name, errs)
	}
	if err := s.trackUpdate(q, old, next, opts.fieldManager); err != nil {
		return nil, err
	}
	return s.store(ctx, q, old, next, opts)
}

// keepServerMeta restores the metadata a client cannot change.
func keepServerMeta(acc, old metav1.Object, q *request) {
	acc.SetName(old.GetName())
	acc.SetNamespace(old.GetNamespace())
	acc.SetUID(old.GetUID())
	acc.SetCreationTimestamp(old.GetCreationTimestamp())
	acc.SetDeletionTimestamp(old.GetDeletionTimestamp())
	acc.SetDeletionGracePeriodSeconds(old.GetDeletionGracePeriodSeconds())
	acc.SetGeneration(old.GetGeneration())
	acc.SetResourceVersion(old.GetResourceVersion())
	acc.SetSelfLink("")
	_ = q
}

// store writes an updated object at the old revision: allocation changes
// first, and an object being deleted whose last finalizer went away is
// removed instead.
func (s *Server) store(ctx context.Context, q *request, old, next runtime.Object, opts writeOptions) (runtime.Object, error) {
	if opts.dryRun {
		return next, nil
	}
	acc, _ := meta.Accessor(next)
	oldAcc, _ := meta.Accessor(old)
	if acc.GetDeletionTimestamp() != nil && !pending(next) {
		rev, _ := objectstore.ParseResourceVersion(oldAcc.GetResourceVersion())
		out, err := s.objects.Delete(ctx, q.res, q.namespace, q.name, rev)
		if err != nil {
			return nil, storageErr(err, q.gr(), q.name)
		}
		s.afterDelete(ctx, q, out)
		return next, nil
	}
	if s.unchanged(q, old, next) {
		return old, nil
	}
	commit, rollback, err := s.allocateUpdate(ctx, q, old, next)
	if err != nil {
		return nil, err
	}
	if err := s.objects.Update(ctx, q.res, q.namespace, q.name, next); err != nil {
		rollback()
		if errors.Is(err, storage.ErrConflict) {
			return nil, err
		}
		return nil, storageErr(err, q.gr(), q.name)
	}
	commit()
	return next, nil
}

// prepareUpdate defaults next and applies the strategy's update rules: a
// status update changes only status, a main update everything else.
func (q *request) prepareUpdate(next, old runtime.Object) {
	q.strategy.Default(next)
	switch q.info.Subresource {
	case "status":
		q.strategy.PrepareForStatusUpdate(next, old)
		return
	case "finalize":
		if f, ok := q.strategy.(registry.FinalizeStrategy); ok {
			f.PrepareForFinalizeUpdate(next, old)
			return
		}
	}
	q.strategy.PrepareForUpdate(next, old)
}

// validateUpdate picks the validation of the endpoint being written.
func (q *request) validateUpdate(next, old runtime.Object) field.ErrorList {
	switch q.info.Subresource {
	case "status":
		if v, ok := q.strategy.(registry.StatusValidator); ok {
			return v.ValidateStatusUpdate(next, old)
		}
	case "finalize":
		if f, ok := q.strategy.(registry.FinalizeStrategy); ok {
			return f.ValidateFinalizeUpdate(next, old)
		}
	}
	return q.strategy.ValidateUpdate(next, old)
}

// unchanged tells whether an update would store the same bytes; upstream
// skips such writes, so the resourceVersion stays and watchers see nothing.
func (s *Server) unchanged(q *request, old, next runtime.Object) bool {
	a, err1 := s.objects.Encode(q.res, old.DeepCopyObject())
	b, err2 := s.objects.Encode(q.res, next.DeepCopyObject())
	return err1 == nil && err2 == nil && bytes.Equal(a, b)
}
