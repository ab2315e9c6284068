package podenv

import (
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation"
)

// EnvInput is what Env needs to build one container's environment.
type EnvInput struct {
	Pod       *corev1.Pod
	Container *corev1.Container
	// Services are the services to make link variables from: the caller
	// passes those that existed when the pod started (all namespaces; Env
	// keeps the pod's own and default/kubernetes).
	Services []*corev1.Service
	// ConfigMap and Secret look objects up in a namespace; a missing object
	// is reported with a NotFound error of k8s.io/apimachinery/pkg/api/errors.
	ConfigMap func(ns, name string) (*corev1.ConfigMap, error)
	Secret    func(ns, name string) (*corev1.Secret, error)
	// HostIP is status.hostIP (else HostIPs[0]); HostIPs, when set, is
	// status.hostIPs (else HostIP alone).
	HostIP  string
	HostIPs []string
	// PodIPs are the pod's IPs, the preferred family first: status.podIP is
	// PodIPs[0].
	PodIPs []string
	// NodeAllocatable stands in for a limit the container does not set.
	NodeAllocatable corev1.ResourceList
}

type envVar struct{ name, value string }

// orderedEnv keeps variables in the order they were first defined; a later
// definition replaces the value in place.
type orderedEnv struct {
	names []string
	vals  map[string]string
}

func (e *orderedEnv) set(name, value string) {
	if e.vals == nil {
		e.vals = map[string]string{}
	}
	if _, ok := e.vals[name]; !ok {
		e.names = append(e.names, name)
	}
	e.vals[name] = value
}

// Env builds the container's environment as KEY=VALUE entries, with
// upstream's semantics: service link variables, then envFrom sources, then
// env entries (expanded with $(VAR) against the variables defined before
// them and the service variables). A variable the container defines
// replaces the service variable of the same name and takes the container's
// position. Keys of an envFrom source come in sorted order; keys that are
// not valid variable names (printable ASCII other than '=', as upstream's
// relaxed validation) are skipped.
func Env(in EnvInput) ([]string, error) {
	if in.Pod == nil || in.Container == nil {
		return nil, fmt.Errorf("build environment: pod and container are required")
	}
	links := in.Pod.Spec.EnableServiceLinks == nil || *in.Pod.Spec.EnableServiceLinks
	svc := serviceEnv(in.Services, in.Pod.Namespace, links)
	r := &resolver{in: in, configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{}}
	ctr := &orderedEnv{}
	for _, from := range in.Container.EnvFrom {
		if err := r.addEnvFrom(ctr, from); err != nil {
			return nil, err
		}
	}
	svcVals := make(map[string]string, len(svc))
	for _, v := range svc {
		svcVals[v.name] = v.value
	}
	lookup := func(name string) (string, bool) {
		if v, ok := ctr.vals[name]; ok {
			return v, true
		}
		v, ok := svcVals[name]
		return v, ok
	}
	for _, ev := range in.Container.Env {
		val, ok, err := r.value(ev, lookup)
		if err != nil {
			return nil, err
		}
		if ok {
			ctr.set(ev.Name, val)
		}
	}
	out := make([]string, 0, len(svc)+len(ctr.names))
	for _, v := range svc {
		if _, ok := ctr.vals[v.name]; !ok {
			out = append(out, v.name+"="+v.value)
		}
	}
	for _, n := range ctr.names {
		out = append(out, n+"="+ctr.vals[n])
	}
	return out, nil
}

// resolver resolves env sources, caching the objects it looked up.
type resolver struct {
	in         EnvInput
	configMaps map[string]*corev1.ConfigMap
	secrets    map[string]*corev1.Secret
}

func (r *resolver) addEnvFrom(env *orderedEnv, from corev1.EnvFromSource) error {
	var data map[string]string
	switch {
	case from.ConfigMapRef != nil:
		cm, err := r.configMap(from.ConfigMapRef.Name)
		if err != nil {
			if apierrors.IsNotFound(err) && isTrue(from.ConfigMapRef.Optional) {
				return nil
			}
			return err
		}
		data = cm.Data
	case from.SecretRef != nil:
		s, err := r.secret(from.SecretRef.Name)
		if err != nil {
			if apierrors.IsNotFound(err) && isTrue(from.SecretRef.Optional) {
				return nil
			}
			return err
		}
		data = make(map[string]string, len(s.Data))
		for k, v := range s.Data {
			data[k] = string(v)
		}
	default:
		return nil
	}
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		name := from.Prefix + k
		if len(validation.IsRelaxedEnvVarName(name)) != 0 {
			continue
		}
		env.set(name, data[k])
	}
	return nil
}

// value resolves one env entry; ok is false when an optional source is
// missing and the variable is left out.
func (r *resolver) value(ev corev1.EnvVar, lookup func(string) (string, bool)) (string, bool, error) {
	if ev.Value != "" || ev.ValueFrom == nil {
		return Expand(ev.Value, lookup), true, nil
	}
	from := ev.ValueFrom
	switch {
	case from.FieldRef != nil:
		v, err := r.fieldRef(from.FieldRef)
		if err != nil {
			return "", false, fmt.Errorf("env %s: %w", ev.Name, err)
		}
		return v, true, nil
	case from.ResourceFieldRef != nil:
		v, err := ResourceValue(from.ResourceFieldRef, r.in.Container, r.in.NodeAllocatable)
		if err != nil {
			return "", false, fmt.Errorf("env %s: %w", ev.Name, err)
		}
		return v, true, nil
	case from.ConfigMapKeyRef != nil:
		return r.configMapKey(from.ConfigMapKeyRef)
	case from.SecretKeyRef != nil:
		return r.secretKey(from.SecretKeyRef)
	}
	return "", false, fmt.Errorf("env %s: unsupported valueFrom source", ev.Name)
}

func (r *resolver) configMapKey(ref *corev1.ConfigMapKeySelector) (string, bool, error) {
	optional := isTrue(ref.Optional)
	cm, err := r.configMap(ref.Name)
	if err != nil {
		if apierrors.IsNotFound(err) && optional {
			return "", false, nil
		}
		return "", false, err
	}
	v, ok := cm.Data[ref.Key]
	if !ok {
		if optional {
			return "", false, nil
		}
		return "", false, fmt.Errorf("couldn't find key %s in ConfigMap %s/%s", ref.Key, r.in.Pod.Namespace, ref.Name)
	}
	return v, true, nil
}

func (r *resolver) secretKey(ref *corev1.SecretKeySelector) (string, bool, error) {
	optional := isTrue(ref.Optional)
	s, err := r.secret(ref.Name)
	if err != nil {
		if apierrors.IsNotFound(err) && optional {
			return "", false, nil
		}
		return "", false, err
	}
	v, ok := s.Data[ref.Key]
	if !ok {
		if optional {
			return "", false, nil
		}
		return "", false, fmt.Errorf("couldn't find key %s in Secret %s/%s", ref.Key, r.in.Pod.Namespace, ref.Name)
	}
	return string(v), true, nil
}

// configMap looks a ConfigMap of the pod's namespace up once. Errors keep
// their type so that callers can test them with apierrors.IsNotFound.
func (r *resolver) configMap(name string) (*corev1.ConfigMap, error) {
	if cm, ok := r.configMaps[name]; ok {
		return cm, nil
	}
	ns := r.in.Pod.Namespace
	if r.in.ConfigMap == nil {
		return nil, fmt.Errorf("couldn't get configMap %s/%s, no ConfigMap lookup defined", ns, name)
	}
	cm, err := r.in.ConfigMap(ns, name)
	if err != nil {
		return nil, fmt.Errorf("get ConfigMap %s/%s: %w", ns, name, err)
	}
	if cm == nil {
		return nil, fmt.Errorf("get ConfigMap %s/%s: lookup returned nothing", ns, name)
	}
	r.configMaps[name] = cm
	return cm, nil
}

func (r *resolver) secret(name string) (*corev1.Secret, error) {
	if s, ok := r.secrets[name]; ok {
		return s, nil
	}
	ns := r.in.Pod.Namespace
	if r.in.Secret == nil {
		return nil, fmt.Errorf("couldn't get secret %s/%s, no Secret lookup defined", ns, name)
	}
	s, err := r.in.Secret(ns, name)
	if err != nil {
		return nil, fmt.Errorf("get Secret %s/%s: %w", ns, name, err)
	}
	if s == nil {
		return nil, fmt.Errorf("get Secret %s/%s: lookup returned nothing", ns, name)
	}
	r.secrets[name] = s
	return s, nil
}

func isTrue(b *bool) bool { return b != nil && *b }
