package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"

	jsonpatch "github.com/evanphx/json-patch/v5"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/mergepatch"
	"k8s.io/apimachinery/pkg/util/strategicpatch"

	"rudder/controlplane/storage"
)

// patchRequest is a decoded PATCH.
type patchRequest struct {
	kind  types.PatchType
	body  []byte
	opts  writeOptions
	force bool
}

func (s *Server) patch(w http.ResponseWriter, r *http.Request, q *request) error {
	p, err := parsePatch(r)
	if err != nil {
		return err
	}
	out, code, err := s.patchObject(r.Context(), w, q, p)
	if err != nil {
		return err
	}
	return s.respond(w, r, q, code, out)
}

func parsePatch(r *http.Request) (*patchRequest, error) {
	opts, err := parseWriteOptions(r)
	if err != nil {
		return nil, err
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	p := &patchRequest{kind: types.PatchType(mt), opts: opts, force: r.URL.Query().Get("force") == "true"}
	switch p.kind {
	case types.JSONPatchType, types.MergePatchType, types.StrategicMergePatchType, types.ApplyYAMLPatchType:
	default:
		return nil, apierrors.NewGenericServerResponse(http.StatusUnsupportedMediaType, "patch", schema.GroupResource{}, "",
			fmt.Sprintf("the body of the request was in an unknown format - accepted media types include: %s, %s, %s, %s",
				types.JSONPatchType, types.MergePatchType, types.StrategicMergePatchType, types.ApplyYAMLPatchType), 0, false)
	}
	if p.body, err = readBody(r); err != nil {
		return nil, err
	}
	if p.kind == types.ApplyYAMLPatchType {
		if p.opts.fieldManager == "" {
			return nil, badRequest("PATCH, application/apply-patch+yaml requests require fieldManager to be set")
		}
	} else if p.force {
		return nil, badRequest("force: Invalid value: true: may not be specified for non-apply patch")
	}
	return p, nil
}

// patchObject applies a patch, retrying when another writer raced it.
// Server-side apply to a missing object creates it.
func (s *Server) patchObject(ctx context.Context, w http.ResponseWriter, q *request, p *patchRequest) (runtime.Object, int, error) {
	for attempt := 0; ; attempt++ {
		old, err := s.objects.Get(ctx, q.res, q.namespace, q.name)
		if errors.Is(err, storage.ErrNotFound) && p.kind == types.ApplyYAMLPatchType {
			out, err := s.applyCreate(ctx, q, p)
			return out, http.StatusCreated, err
		}
		if err != nil {
			return nil, 0, storageErr(err, q.gr(), q.name)
		}
		next, warnings, err := s.patched(q, old, p)
		if err != nil {
			return nil, 0, err
		}
		if p.opts.validation == validationWarn {
			warn(w, warnings)
		}
		out, err := s.patchUpdate(ctx, q, old, next, p)
		if errors.Is(err, storage.ErrConflict) && attempt < 10 {
			continue
		}
		if err != nil {
			return nil, 0, storageErr(err, q.gr(), q.name)
		}
		return out, http.StatusOK, nil
	}
}

// patchUpdate runs the update rules on a patched object. A resourceVersion
// the patch itself set is a precondition.
func (s *Server) patchUpdate(ctx context.Context, q *request, old, next runtime.Object, p *patchRequest) (runtime.Object, error) {
	oldAcc, _ := meta.Accessor(old)
	acc, _ := meta.Accessor(next)
	if rv := acc.GetResourceVersion(); rv != "" && rv != oldAcc.GetResourceVersion() {
		return nil, apierrors.NewConflict(q.gr(), q.name, errors.New(conflictMsg))
	}
	if acc.GetName() != q.name {
		return nil, badRequest("metadata.name: Invalid value: %q: field is immutable", acc.GetName())
	}
	if p.kind != types.ApplyYAMLPatchType {
		return s.updateFrom(ctx, q, old, next, p.opts, "patch")
	}
	keepServerMeta(acc, oldAcc, q)
	q.prepareUpdate(next, old)
	if errs := q.validateUpdate(next, old); len(errs) > 0 {
		return nil, apierrors.NewInvalid(q.res.GVK().GroupKind(), q.name, errs)
	}
	return s.store(ctx, q, old, next, p.opts)
}

// patched computes the patched object from the stored one.
func (s *Server) patched(q *request, old runtime.Object, p *patchRequest) (runtime.Object, []string, error) {
	if p.kind == types.ApplyYAMLPatchType {
		return s.applyPatch(q, old, p)
	}
	oldJSON, err := json.Marshal(old)
	if err != nil {
		return nil, nil, err
	}
	var newJSON []byte
	switch p.kind {
	case types.JSONPatchType:
		patch, perr := jsonpatch.DecodePatch(p.body)
		if perr != nil {
			return nil, nil, badRequest("the server rejected our request due to an error in our request: %v", perr)
		}
		newJSON, err = patch.Apply(oldJSON)
	case types.MergePatchType:
		newJSON, err = jsonpatch.MergePatch(oldJSON, p.body)
	case types.StrategicMergePatchType:
		schema, serr := strategicpatch.NewPatchMetaFromStruct(old)
		if serr != nil {
			return nil, nil, serr
		}
		newJSON, err = strategicpatch.StrategicMergePatchUsingLookupPatchMeta(oldJSON, p.body, schema)
	}
	if err != nil {
		return nil, nil, patchError(err)
	}
	return s.decodeInto(newJSON, q.res.GVK(), p.opts.validation)
}

func patchError(err error) error {
	if errors.Is(err, mergepatch.ErrBadJSONDoc) || errors.Is(err, mergepatch.ErrBadPatchFormatForPrimitiveList) {
		return badRequest("%v", err)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return badRequest("error decoding patch: %v", err)
	}
	return apierrors.NewGenericServerResponse(http.StatusUnprocessableEntity, "patch", schema.GroupResource{}, "", err.Error(), 0, false)
}

// applyCreate creates an object from a server-side apply patch.
func (s *Server) applyCreate(ctx context.Context, q *request, p *patchRequest) (runtime.Object, error) {
	live, err := s.scheme.New(q.res.GVK())
	if err != nil {
		return nil, err
	}
	acc, _ := meta.Accessor(live)
	acc.SetName(q.name)
	acc.SetNamespace(q.namespace)
	obj, _, err := s.applyPatch(q, live, p)
	if err != nil {
		return nil, err
	}
	opts := p.opts
	opts.applied = true
	return s.createObject(ctx, q, obj, opts)
}
