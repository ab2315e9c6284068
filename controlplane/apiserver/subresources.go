package apiserver

import (
	"fmt"
	"net/http"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"rudder/controlplane/storage"
)

func (s *Server) serveSubresource(w http.ResponseWriter, r *http.Request, q *request) error {
	if q.name == "" {
		return notFoundResource()
	}
	switch q.info.Subresource {
	case "status", "finalize":
		return s.serveStatus(w, r, q)
	case "scale":
		return s.serveScale(w, r, q)
	case "binding":
		return s.serveBinding(w, r, q)
	case "eviction":
		return s.serveEviction(w, r, q)
	case "token":
		return s.serveToken(w, r, q)
	case "log", "exec", "portforward":
		return s.serveNodeProxy(w, r, q)
	}
	return notFoundResource()
}

// serveStatus: GET returns the object; PUT and PATCH change only status
// (finalize, for namespaces, only spec.finalizers).
func (s *Server) serveStatus(w http.ResponseWriter, r *http.Request, q *request) error {
	switch r.Method {
	case http.MethodGet:
		return s.get(w, r, q)
	case http.MethodPut:
		return s.update(w, r, q)
	case http.MethodPatch:
		return s.patch(w, r, q)
	}
	return apierrors.NewMethodNotSupported(q.gr(), r.Method)
}

// scaleOf reads the scale of a Deployment, ReplicaSet or StatefulSet.
func scaleOf(obj runtime.Object) (*autoscalingv1.Scale, error) {
	var spec, status int32
	var sel *metav1.LabelSelector
	var om metav1.ObjectMeta
	switch o := obj.(type) {
	case *appsv1.Deployment:
		spec, status, sel, om = derefReplicas(o.Spec.Replicas), o.Status.Replicas, o.Spec.Selector, o.ObjectMeta
	case *appsv1.ReplicaSet:
		spec, status, sel, om = derefReplicas(o.Spec.Replicas), o.Status.Replicas, o.Spec.Selector, o.ObjectMeta
	case *appsv1.StatefulSet:
		spec, status, sel, om = derefReplicas(o.Spec.Replicas), o.Status.Replicas, o.Spec.Selector, o.ObjectMeta
	default:
		return nil, fmt.Errorf("no scale for %T", obj)
	}
	selector, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return nil, err
	}
	return &autoscalingv1.Scale{
		TypeMeta: metav1.TypeMeta{APIVersion: "autoscaling/v1", Kind: "Scale"},
		ObjectMeta: metav1.ObjectMeta{Name: om.Name, Namespace: om.Namespace, UID: om.UID,
			ResourceVersion: om.ResourceVersion, CreationTimestamp: om.CreationTimestamp},
		Spec:   autoscalingv1.ScaleSpec{Replicas: spec},
		Status: autoscalingv1.ScaleStatus{Replicas: status, Selector: selector.String()},
	}, nil
}

func derefReplicas(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

func setReplicas(obj runtime.Object, n int32) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		o.Spec.Replicas = &n
	case *appsv1.ReplicaSet:
		o.Spec.Replicas = &n
	case *appsv1.StatefulSet:
		o.Spec.Replicas = &n
	}
}

func (s *Server) serveScale(w http.ResponseWriter, r *http.Request, q *request) error {
	ctx := r.Context()
	cur, err := s.objects.Get(ctx, q.res, q.namespace, q.name)
	if err != nil {
		return storageErr(err, q.gr(), q.name)
	}
	sc, err := scaleOf(cur)
	if err != nil {
		return err
	}
	if r.Method == http.MethodGet {
		s.writeObject(w, http.StatusOK, q.media, sc)
		return nil
	}
	want, err := s.requestedScale(w, r, q, sc)
	if err != nil {
		return err
	}
	if want.Spec.Replicas < 0 {
		return apierrors.NewInvalid(autoscalingv1.SchemeGroupVersion.WithKind("Scale").GroupKind(), q.name,
			field.ErrorList{field.Invalid(field.NewPath("spec", "replicas"), want.Spec.Replicas, "must be greater than or equal to 0")})
	}
	if want.ResourceVersion != "" && want.ResourceVersion != sc.ResourceVersion {
		return storageErr(storage.ErrConflict, q.gr(), q.name)
	}
	next := cur.DeepCopyObject()
	setReplicas(next, want.Spec.Replicas)
	sub := *q
	sub.info.Subresource = ""
	opts, err := parseWriteOptions(r)
	if err != nil {
		return err
	}
	out, err := s.updateFrom(ctx, &sub, cur, next, opts, "update")
	if err != nil {
		return storageErr(err, q.gr(), q.name)
	}
	sc, err = scaleOf(out)
	if err != nil {
		return err
	}
	s.writeObject(w, http.StatusOK, q.media, sc)
	return nil
}

// requestedScale decodes a PUT Scale or applies a PATCH to the current one.
func (s *Server) requestedScale(w http.ResponseWriter, r *http.Request, q *request, cur *autoscalingv1.Scale) (*autoscalingv1.Scale, error) {
	scaleKind := autoscalingv1.SchemeGroupVersion.WithKind("Scale")
	if r.Method == http.MethodPut {
		obj, err := s.readObject(w, r, scaleKind, validationIgnore)
		if err != nil {
			return nil, err
		}
		return obj.(*autoscalingv1.Scale), nil
	}
	if r.Method != http.MethodPatch {
		return nil, apierrors.NewMethodNotSupported(q.gr(), r.Method)
	}
	p, err := parsePatch(r)
	if err != nil {
		return nil, err
	}
	sub := *q
	sub.res.Group, sub.res.Version, sub.res.Kind = scaleKind.Group, scaleKind.Version, scaleKind.Kind
	if p.kind == "application/apply-patch+yaml" {
		p.kind = "application/merge-patch+json"
		if p.body, err = toJSON("application/yaml", p.body); err != nil {
			return nil, err
		}
	}
	obj, _, err := s.patched(&sub, cur, p)
	if err != nil {
		return nil, err
	}
	return obj.(*autoscalingv1.Scale), nil
}

// serveBinding assigns a pod to a node, once (pods/binding).
func (s *Server) serveBinding(w http.ResponseWriter, r *http.Request, q *request) error {
	if r.Method != http.MethodPost {
		return apierrors.NewMethodNotSupported(q.gr(), r.Method)
	}
	obj, err := s.readObject(w, r, corev1.SchemeGroupVersion.WithKind("Binding"), validationIgnore)
	if err != nil {
		return err
	}
	b := obj.(*corev1.Binding)
	if b.Target.Kind != "" && b.Target.Kind != "Node" {
		return apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("Binding").GroupKind(), q.name,
			field.ErrorList{field.NotSupported(field.NewPath("target", "kind"), b.Target.Kind, []string{"Node"})})
	}
	if b.Target.Name == "" {
		return apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("Binding").GroupKind(), q.name,
			field.ErrorList{field.Required(field.NewPath("target", "name"), "")})
	}
	_, err = s.objects.GuaranteedUpdate(r.Context(), q.res, q.namespace, q.name, func(cur runtime.Object) (runtime.Object, error) {
		return bindPod(cur.(*corev1.Pod), b)
	})
	if err != nil {
		return storageErr(err, q.gr(), q.name)
	}
	writeObject(w, http.StatusCreated, mediaChoice{kind: outJSON}, statusSuccess(nil))
	return nil
}

func bindPod(pod *corev1.Pod, b *corev1.Binding) (runtime.Object, error) {
	if pod.DeletionTimestamp != nil {
		return nil, apierrors.NewConflict(corev1.Resource("pods"), pod.Name, fmt.Errorf("pod %s is being deleted, cannot be assigned to a host", pod.Name))
	}
	if pod.Spec.NodeName != "" {
		return nil, apierrors.NewConflict(corev1.Resource("pods"), pod.Name, fmt.Errorf("pod %s is already assigned to node %q", pod.Name, pod.Spec.NodeName))
	}
	if b.UID != "" && b.UID != pod.UID {
		return nil, apierrors.NewConflict(corev1.Resource("pods"), pod.Name, fmt.Errorf("the UID in the bind request (%s) does not match the UID of the pod (%s)", b.UID, pod.UID))
	}
	pod.Spec.NodeName = b.Target.Name
	for k, v := range b.Annotations {
		if pod.Annotations == nil {
			pod.Annotations = map[string]string{}
		}
		pod.Annotations[k] = v
	}
	setPodCondition(pod, corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(time.Now())})
	return pod, nil
}

func setPodCondition(pod *corev1.Pod, c corev1.PodCondition) {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == c.Type {
			pod.Status.Conditions[i] = c
			return
		}
	}
	pod.Status.Conditions = append(pod.Status.Conditions, c)
}

// serveEviction deletes a pod through the eviction subresource. There are
// no PodDisruptionBudgets served, so every eviction is allowed.
func (s *Server) serveEviction(w http.ResponseWriter, r *http.Request, q *request) error {
	if r.Method != http.MethodPost {
		return apierrors.NewMethodNotSupported(q.gr(), r.Method)
	}
	obj, err := s.readObject(w, r, policyv1.SchemeGroupVersion.WithKind("Eviction"), validationIgnore)
	if err != nil {
		return err
	}
	ev := obj.(*policyv1.Eviction)
	if ev.Name != "" && ev.Name != q.name {
		return badRequest("name in URL does not match name in Eviction object")
	}
	opts := ev.DeleteOptions
	if opts == nil {
		opts = &metav1.DeleteOptions{}
	}
	sub := *q
	sub.info.Subresource = ""
	if _, _, err := s.deleteObject(r.Context(), &sub, q.name, opts); err != nil {
		return err
	}
	writeObject(w, http.StatusCreated, mediaChoice{kind: outJSON}, statusSuccess(nil))
	return nil
}
