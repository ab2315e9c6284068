package podenv

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// fieldRef resolves a downward API field of the pod.
func (r *resolver) fieldRef(fs *corev1.ObjectFieldSelector) (string, error) {
	if fs.APIVersion != "" && fs.APIVersion != "v1" {
		return "", fmt.Errorf("unsupported pod version: %s", fs.APIVersion)
	}
	pod := r.in.Pod
	if v, ok := MetadataField(pod, fs.FieldPath); ok {
		return v, nil
	}
	switch fs.FieldPath {
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.hostIP":
		if r.in.HostIP == "" && len(r.in.HostIPs) > 0 {
			return r.in.HostIPs[0], nil
		}
		return r.in.HostIP, nil
	case "status.hostIPs":
		if len(r.in.HostIPs) == 0 {
			return r.in.HostIP, nil
		}
		return strings.Join(r.in.HostIPs, ","), nil
	case "status.podIP":
		if len(r.in.PodIPs) == 0 {
			return "", nil
		}
		return r.in.PodIPs[0], nil
	case "status.podIPs":
		return strings.Join(r.in.PodIPs, ","), nil
	}
	return "", fmt.Errorf("unsupported fieldPath: %s", fs.FieldPath)
}

// MetadataField resolves the metadata field paths of the downward API
// (name, namespace, uid, labels, annotations and their ['key'] forms),
// shared by env and downwardAPI volumes; ok is false for other paths.
func MetadataField(pod *corev1.Pod, path string) (string, bool) {
	switch path {
	case "metadata.name":
		return pod.Name, true
	case "metadata.namespace":
		return pod.Namespace, true
	case "metadata.uid":
		return string(pod.UID), true
	case "metadata.labels":
		return FormatMap(pod.Labels), true
	case "metadata.annotations":
		return FormatMap(pod.Annotations), true
	}
	if key, ok := subscript(path, "metadata.labels"); ok {
		return pod.Labels[key], true
	}
	if key, ok := subscript(path, "metadata.annotations"); ok {
		return pod.Annotations[key], true
	}
	return "", false
}

// subscript parses path as field['key'].
func subscript(path, field string) (string, bool) {
	rest, ok := strings.CutPrefix(path, field+"['")
	if !ok {
		return "", false
	}
	key, ok := strings.CutSuffix(rest, "']")
	if !ok || key == "" {
		return "", false
	}
	return key, true
}

// FormatMap renders a map as sorted key="value" lines, as the downward API
// does for metadata.labels and metadata.annotations.
func FormatMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%q\n", k, m[k])
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// ResourceValue resolves a resourceFieldRef of container c: a limit it
// does not set (or sets to zero) is the node's allocatable amount. Values
// are divided by the divisor (default 1) and rounded up. Env and
// downwardAPI volumes share it.
func ResourceValue(fs *corev1.ResourceFieldSelector, c *corev1.Container, alloc corev1.ResourceList) (string, error) {
	divisor := fs.Divisor
	if divisor.IsZero() {
		divisor = resource.MustParse("1")
	}
	kind, name, ok := strings.Cut(fs.Resource, ".")
	if !ok || (kind != "limits" && kind != "requests") {
		return "", fmt.Errorf("unsupported container resource : %s", fs.Resource)
	}
	rn := corev1.ResourceName(name)
	if rn != corev1.ResourceCPU && rn != corev1.ResourceMemory && rn != corev1.ResourceEphemeralStorage &&
		!strings.HasPrefix(name, corev1.ResourceHugePagesPrefix) {
		return "", fmt.Errorf("unsupported container resource : %s", fs.Resource)
	}
	var q resource.Quantity
	if kind == "limits" {
		var set bool
		q, set = c.Resources.Limits[rn]
		if !set || q.IsZero() {
			q = alloc[rn]
		}
	} else {
		q = c.Resources.Requests[rn]
	}
	if rn == corev1.ResourceCPU {
		return ceilDiv(float64(q.MilliValue()), float64(divisor.MilliValue()))
	}
	return ceilDiv(float64(q.Value()), float64(divisor.Value()))
}

func ceilDiv(v, d float64) (string, error) {
	if d <= 0 {
		return "", fmt.Errorf("invalid divisor: must be positive")
	}
	return strconv.FormatInt(int64(math.Ceil(v/d)), 10), nil
}
