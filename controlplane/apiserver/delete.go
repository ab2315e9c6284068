package apiserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"

	"rudder/controlplane/apiserver/objectstore"
	"rudder/controlplane/storage"
)

// gracefulPending is true for an object in graceful deletion that must stay
// until its grace period is confirmed (a pod the kubelet is stopping).
func gracefulPending(acc metav1.Object) bool {
	g := acc.GetDeletionGracePeriodSeconds()
	return g != nil && *g > 0
}

// parseDeleteOptions reads DeleteOptions from the body or the query.
func (s *Server) parseDeleteOptions(r *http.Request) (*metav1.DeleteOptions, error) {
	opts, err := s.readDeleteOptions(r)
	if err != nil {
		return nil, err
	}
	v := r.URL.Query()
	if g := v.Get("gracePeriodSeconds"); g != "" {
		n, err := strconv.ParseInt(g, 10, 64)
		if err != nil {
			return nil, badRequest("invalid gracePeriodSeconds %q", g)
		}
		opts.GracePeriodSeconds = &n
	}
	if p := v.Get("propagationPolicy"); p != "" {
		pp := metav1.DeletionPropagation(p)
		opts.PropagationPolicy = &pp
	}
	if o := v.Get("orphanDependents"); o != "" {
		b := o == "true"
		opts.OrphanDependents = &b
	}
	if len(v["dryRun"]) > 0 {
		opts.DryRun = v["dryRun"]
	}
	return opts, validateDeleteOptions(opts)
}

// readDeleteOptions decodes a DeleteOptions body. Clients send it in the
// group version of the resource (apps/v1 for deployments), so the
// apiVersion is not checked.
func (s *Server) readDeleteOptions(r *http.Request) (*metav1.DeleteOptions, error) {
	body, err := readBody(r)
	if err != nil || len(bytes.TrimSpace(body)) == 0 {
		return &metav1.DeleteOptions{}, err
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == protobufType {
		// Decoded straight into the type: the envelope names the
		// resource's group version, in which DeleteOptions is not
		// registered under its own kind.
		opts := &metav1.DeleteOptions{}
		if _, _, err := s.decoders.protobuf.Decode(body, nil, opts); err != nil {
			return nil, badRequest("decode DeleteOptions: %v", err)
		}
		return opts, nil
	}
	if body, err = toJSON(r.Header.Get("Content-Type"), body); err != nil {
		return nil, err
	}
	opts := &metav1.DeleteOptions{}
	if err := json.Unmarshal(body, opts); err != nil {
		return nil, badRequest("decode DeleteOptions: %v", err)
	}
	return opts, nil
}

func validateDeleteOptions(o *metav1.DeleteOptions) error {
	if o.PropagationPolicy != nil {
		switch *o.PropagationPolicy {
		case metav1.DeletePropagationBackground, metav1.DeletePropagationForeground, metav1.DeletePropagationOrphan:
		default:
			return apierrors.NewBadRequest("propagationPolicy: Unsupported value: \"" + string(*o.PropagationPolicy) + "\": supported values: \"Foreground\", \"Background\", \"Orphan\"")
		}
		if o.OrphanDependents != nil {
			return apierrors.NewBadRequest("orphanDependents: Invalid value: cannot set both OrphanDependents and PropagationPolicy")
		}
	}
	for _, d := range o.DryRun {
		if d != metav1.DryRunAll {
			return apierrors.NewBadRequest("dryRun: Unsupported value: \"" + d + "\"")
		}
	}
	if o.GracePeriodSeconds != nil && *o.GracePeriodSeconds < 0 {
		z := int64(0)
		o.GracePeriodSeconds = &z
	}
	return nil
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request, q *request) error {
	opts, err := s.parseDeleteOptions(r)
	if err != nil {
		return err
	}
	obj, deleted, err := s.deleteObject(r.Context(), q, q.name, opts)
	if err != nil {
		return err
	}
	if !deleted || returnsDeletedObject(q) {
		return s.respond(w, r, q, http.StatusOK, obj)
	}
	acc, _ := meta.Accessor(obj)
	writeObject(w, http.StatusOK, mediaChoice{kind: outJSON}, statusSuccess(&metav1.StatusDetails{
		Name: q.name, Group: q.res.Group, Kind: q.res.Resource, UID: acc.GetUID(),
	}))
	return nil
}

// returnsDeletedObject: upstream answers a delete with the object for
// pods (and anything still present); others get a Status.
func returnsDeletedObject(q *request) bool {
	return q.res.Group == "" && (q.res.Resource == "pods" || q.res.Resource == "namespaces")
}

// deleteObject deletes one object, or starts its graceful deletion. deleted
// tells whether it is gone from storage.
func (s *Server) deleteObject(ctx context.Context, q *request, name string, opts *metav1.DeleteOptions) (runtime.Object, bool, error) {
	dry := len(opts.DryRun) > 0
	for attempt := 0; ; attempt++ {
		cur, err := s.objects.Get(ctx, q.res, q.namespace, name)
		if err != nil {
			return nil, false, storageErr(err, q.gr(), name)
		}
		if err := checkPreconditions(q, name, cur, opts.Preconditions); err != nil {
			return nil, false, err
		}
		next := cur.DeepCopyObject()
		switch s.markForDeletion(q, next, opts) {
		case deleteWait:
			return cur, false, nil
		case deleteWrite:
			if dry {
				return next, false, nil
			}
			err := s.objects.Update(ctx, q.res, q.namespace, name, next)
			if errors.Is(err, storage.ErrConflict) && attempt < 10 {
				continue
			}
			if err != nil {
				return nil, false, storageErr(err, q.gr(), name)
			}
			if isNamespace(q) && !s.cfg.NamespaceController {
				go s.finalizeNamespace(name)
			}
			s.handleOwnerFinalizers(q, next)
			return next, false, nil
		}
		if dry {
			return cur, true, nil
		}
		acc, _ := meta.Accessor(cur)
		rev, _ := objectstore.ParseResourceVersion(acc.GetResourceVersion())
		out, err := s.objects.Delete(ctx, q.res, q.namespace, name, rev)
		if errors.Is(err, storage.ErrConflict) && attempt < 10 {
			continue
		}
		if err != nil {
			return nil, false, storageErr(err, q.gr(), name)
		}
		s.afterDelete(ctx, q, out)
		return out, true, nil
	}
}

// pending: already being deleted and waiting (finalizers or grace).
func pending(obj runtime.Object) bool {
	acc, _ := meta.Accessor(obj)
	if ns, ok := obj.(*corev1.Namespace); ok && len(ns.Spec.Finalizers) > 0 {
		return acc.GetDeletionTimestamp() != nil
	}
	return acc.GetDeletionTimestamp() != nil && (len(acc.GetFinalizers()) > 0 || gracefulPending(acc))
}

func checkPreconditions(q *request, name string, cur runtime.Object, p *metav1.Preconditions) error {
	if p == nil {
		return nil
	}
	acc, _ := meta.Accessor(cur)
	if p.UID != nil && *p.UID != acc.GetUID() {
		return apierrors.NewConflict(q.gr(), name, errors.New("Precondition failed: UID in precondition: "+string(*p.UID)+", UID in object meta: "+string(acc.GetUID())))
	}
	if p.ResourceVersion != nil && *p.ResourceVersion != acc.GetResourceVersion() {
		return apierrors.NewConflict(q.gr(), name, errors.New("Precondition failed: ResourceVersion in precondition: "+*p.ResourceVersion+", ResourceVersion in object meta: "+acc.GetResourceVersion()))
	}
	return nil
}

// deletionStep is what a delete request does to an object.
type deletionStep int

const (
	deleteNow   deletionStep = iota // remove from storage
	deleteWrite                     // write the marked object back (graceful or finalizers)
	deleteWait                      // already being deleted; nothing changes
)

// markForDeletion decides how obj goes away and marks it in place: an
// object without finalizers and without grace is removed at once; others
// get deletionTimestamp (and a namespace the Terminating phase) first. A
// shorter grace period replaces a longer one, as upstream.
func (s *Server) markForDeletion(q *request, obj runtime.Object, opts *metav1.DeleteOptions) deletionStep {
	acc, _ := meta.Accessor(obj)
	changed := recordPropagation(acc, opts)
	grace := s.gracePeriod(q, obj, opts)
	held := len(acc.GetFinalizers()) > 0 || isNamespace(q)
	if !held && grace == 0 {
		return deleteNow
	}
	if acc.GetDeletionTimestamp() != nil {
		old := acc.GetDeletionGracePeriodSeconds()
		if old != nil && grace < *old {
			setDeletion(acc, grace)
			return deleteWrite
		}
		if changed {
			return deleteWrite
		}
		return deleteWait
	}
	setDeletion(acc, grace)
	if ns, ok := obj.(*corev1.Namespace); ok {
		ns.Status.Phase = corev1.NamespaceTerminating
	}
	return deleteWrite
}

func setDeletion(acc metav1.Object, grace int64) {
	now := metav1.NewTime(time.Now().Add(time.Duration(grace) * time.Second))
	acc.SetDeletionTimestamp(&now)
	acc.SetDeletionGracePeriodSeconds(&grace)
}

func isNamespace(q *request) bool { return q.res.Group == "" && q.res.Resource == "namespaces" }

// gracePeriod is the grace for pods (from options or the pod's spec; 0 for
// unscheduled or finished pods) and 0 for everything else.
func (s *Server) gracePeriod(q *request, obj runtime.Object, opts *metav1.DeleteOptions) int64 {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return 0
	}
	if pod.Spec.NodeName == "" || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return 0
	}
	if opts.GracePeriodSeconds != nil {
		return *opts.GracePeriodSeconds
	}
	if pod.Spec.TerminationGracePeriodSeconds != nil {
		return *pod.Spec.TerminationGracePeriodSeconds
	}
	return corev1.DefaultTerminationGracePeriodSeconds
}

// recordPropagation records the propagation policy as upstream does, with
// the orphan and foregroundDeletion finalizers the garbage collector acts
// on. Background (the default) needs nothing recorded.
func recordPropagation(acc metav1.Object, opts *metav1.DeleteOptions) bool {
	var want string
	switch {
	case opts.PropagationPolicy != nil && *opts.PropagationPolicy == metav1.DeletePropagationOrphan,
		opts.OrphanDependents != nil && *opts.OrphanDependents:
		want = metav1.FinalizerOrphanDependents
	case opts.PropagationPolicy != nil && *opts.PropagationPolicy == metav1.DeletePropagationForeground:
		want = metav1.FinalizerDeleteDependents
	default:
		return false
	}
	f := sets.New(acc.GetFinalizers()...)
	if f.Has(want) {
		return false
	}
	acc.SetFinalizers(append(acc.GetFinalizers(), want))
	return true
}

func (s *Server) deleteCollection(w http.ResponseWriter, r *http.Request, q *request) error {
	opts, err := s.parseDeleteOptions(r)
	if err != nil {
		return err
	}
	lo, err := parseListOptions(r, q)
	if err != nil {
		return err
	}
	lo.limit, lo.cont = 0, nil
	list, err := s.listObjects(r, q, lo)
	if err != nil {
		return err
	}
	items, _ := meta.ExtractList(list)
	for _, it := range items {
		acc, _ := meta.Accessor(it)
		sub := *q
		sub.namespace = acc.GetNamespace()
		if _, _, err := s.deleteObject(r.Context(), &sub, acc.GetName(), opts); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return s.respond(w, r, q, http.StatusOK, list)
}
