package apiserver

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"rudder/controlplane/apiserver/objectstore"
	"rudder/controlplane/apiserver/tables"
	"rudder/controlplane/storage"
)

func (s *Server) get(w http.ResponseWriter, r *http.Request, q *request) error {
	obj, err := s.objects.Get(r.Context(), q.res, q.namespace, q.name)
	if err != nil {
		return storageErr(err, q.gr(), q.name)
	}
	return s.respond(w, r, q, http.StatusOK, obj)
}

// respond writes a single object or a list in the negotiated form.
func (s *Server) respond(w http.ResponseWriter, r *http.Request, q *request, code int, obj runtime.Object) error {
	out, err := s.transform(r, q.media, obj)
	if err != nil {
		return err
	}
	s.writeObject(w, code, q.media, out)
	return nil
}

// transform turns an object into the negotiated representation: itself, a
// Table, or PartialObjectMetadata.
func (s *Server) transform(r *http.Request, media mediaChoice, obj runtime.Object) (runtime.Object, error) {
	switch media.kind {
	case outTable:
		opts := tables.Options{Now: time.Now(), IncludeObject: metav1.IncludeMetadata}
		if v := r.URL.Query().Get("includeObject"); v != "" {
			opts.IncludeObject = metav1.IncludeObjectPolicy(v)
		}
		opts.NoHeaders = r.URL.Query().Get("noHeaders") == "true"
		t, err := tables.Convert(obj, opts)
		switch {
		case errors.Is(err, tables.ErrBadIncludeObject):
			return nil, badRequest("%v", err)
		case errors.Is(err, tables.ErrNotAcceptable):
			return nil, apierrors.NewGenericServerResponse(http.StatusNotAcceptable, "get", schema.GroupResource{}, "", err.Error(), 0, false)
		case err != nil:
			return nil, apierrors.NewInternalError(err)
		}
		t.APIVersion, t.Kind = "meta.k8s.io/v1", "Table"
		return t, nil
	case outPartialMetadata:
		return partialMetadata(obj)
	}
	return obj, nil
}

func partialMetadata(obj runtime.Object) (runtime.Object, error) {
	tm := metav1.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "PartialObjectMetadata"}
	if meta.IsListType(obj) {
		items, err := meta.ExtractList(obj)
		if err != nil {
			return nil, err
		}
		lacc, _ := meta.ListAccessor(obj)
		out := &metav1.PartialObjectMetadataList{
			TypeMeta: metav1.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "PartialObjectMetadataList"},
			ListMeta: metav1.ListMeta{ResourceVersion: lacc.GetResourceVersion(), Continue: lacc.GetContinue(), RemainingItemCount: lacc.GetRemainingItemCount()},
		}
		for _, it := range items {
			acc, err := meta.Accessor(it)
			if err != nil {
				return nil, err
			}
			pom := metav1.PartialObjectMetadata{TypeMeta: tm}
			pom.ObjectMeta = *objectMetaOf(it, acc)
			out.Items = append(out.Items, pom)
		}
		return out, nil
	}
	acc, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	return &metav1.PartialObjectMetadata{TypeMeta: tm, ObjectMeta: *objectMetaOf(obj, acc)}, nil
}

// objectMetaOf returns a copy of an object's whole metadata (owner
// references, finalizers, deletion and creation times included).
func objectMetaOf(obj runtime.Object, acc metav1.Object) *metav1.ObjectMeta {
	if a, ok := obj.(metav1.ObjectMetaAccessor); ok {
		if om, ok := a.GetObjectMeta().(*metav1.ObjectMeta); ok {
			return om.DeepCopy()
		}
	}
	return &metav1.ObjectMeta{Name: acc.GetName(), Namespace: acc.GetNamespace(), UID: acc.GetUID(),
		ResourceVersion: acc.GetResourceVersion(), Labels: acc.GetLabels(), Annotations: acc.GetAnnotations()}
}

// continueToken is the opaque list continuation: the revision the list
// started at and the last key returned.
type continueToken struct {
	Rev   int64  `json:"rv"`
	Start string `json:"start"`
}

func encodeContinue(rev int64, key string) string {
	b, _ := json.Marshal(continueToken{Rev: rev, Start: key})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeContinue(s string) (continueToken, error) {
	var t continueToken
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &t)
	}
	if err != nil || t.Rev <= 0 {
		return t, badRequest("continue key is not valid: %q", s)
	}
	return t, nil
}

// listOptions holds the parsed list/watch query.
type listOptions struct {
	sel             *selector
	limit           int64
	cont            *continueToken
	resourceVersion string
	rvMatch         string
}

func parseListOptions(r *http.Request, q *request) (*listOptions, error) {
	v := r.URL.Query()
	sel, err := parseSelector(q.res, v.Get("labelSelector"), v.Get("fieldSelector"))
	if err != nil {
		return nil, err
	}
	o := &listOptions{sel: sel, resourceVersion: v.Get("resourceVersion"), rvMatch: v.Get("resourceVersionMatch")}
	if l := v.Get("limit"); l != "" {
		if o.limit, err = strconv.ParseInt(l, 10, 64); err != nil || o.limit < 0 {
			return nil, badRequest("invalid limit %q", l)
		}
	}
	if c := v.Get("continue"); c != "" {
		t, err := decodeContinue(c)
		if err != nil {
			return nil, err
		}
		o.cont = &t
	}
	return o, nil
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, q *request) error {
	opts, err := parseListOptions(r, q)
	if err != nil {
		return err
	}
	list, err := s.listObjects(r, q, opts)
	if err != nil {
		return err
	}
	return s.respond(w, r, q, http.StatusOK, list)
}

// listObjects reads a page of matching objects into a typed list.
func (s *Server) listObjects(r *http.Request, q *request, o *listOptions) (runtime.Object, error) {
	sopts := storage.ListOptions{}
	if o.cont != nil {
		sopts.Revision, sopts.StartKey = o.cont.Rev, o.cont.Start
	} else if o.resourceVersion != "" && o.resourceVersion != "0" && o.rvMatch == string(metav1.ResourceVersionMatchExact) {
		rev, err := objectstore.ParseResourceVersion(o.resourceVersion)
		if err != nil {
			return nil, badRequest("%v", err)
		}
		sopts.Revision = rev
	}
	var items []runtime.Object
	var res *objectstore.ListResult
	for {
		if o.limit > 0 {
			sopts.Limit = o.limit - int64(len(items))
		}
		var err error
		res, err = s.objects.List(r.Context(), q.res, q.namespace, sopts)
		if err != nil {
			if o.cont != nil && apierrorsIsCompacted(err) {
				return nil, apierrors.NewResourceExpired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.")
			}
			return nil, err
		}
		for _, it := range res.Items {
			if o.sel.matches(it) {
				items = append(items, it)
			}
		}
		sopts.Revision, sopts.StartKey = res.Revision, res.LastKey
		if !res.More || o.limit == 0 || int64(len(items)) >= o.limit {
			break
		}
	}
	list, err := s.objects.NewList(q.res)
	if err != nil {
		return nil, err
	}
	if err := meta.SetList(list, items); err != nil {
		return nil, err
	}
	lacc, _ := meta.ListAccessor(list)
	lacc.SetResourceVersion(strconv.FormatInt(res.Revision, 10))
	if res.More && o.limit > 0 {
		lacc.SetContinue(encodeContinue(res.Revision, res.LastKey))
		if o.sel.empty() {
			rem := res.Remaining
			lacc.SetRemainingItemCount(&rem)
		}
	}
	return list, nil
}
