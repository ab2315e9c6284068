package volumes

import (
	"fmt"
	"math"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// downwardValue is the content of one downwardAPI file.
func downwardValue(in *SetupInput, it *corev1.DownwardAPIVolumeFile) (string, error) {
	switch {
	case it.FieldRef != nil:
		return fieldValue(in.Pod, it.FieldRef.FieldPath)
	case it.ResourceFieldRef != nil:
		return resourceValue(in, it.ResourceFieldRef)
	default:
		return "", fmt.Errorf("neither fieldRef nor resourceFieldRef is set")
	}
}

// fieldValue resolves the metadata field paths a downwardAPI volume may
// use; labels and annotations come out as upstream formats them.
func fieldValue(pod *corev1.Pod, path string) (string, error) {
	if key, ok := subscript(path, "metadata.labels"); ok {
		return pod.Labels[key], nil
	}
	if key, ok := subscript(path, "metadata.annotations"); ok {
		return pod.Annotations[key], nil
	}
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "metadata.labels":
		return FormatMap(pod.Labels), nil
	case "metadata.annotations":
		return FormatMap(pod.Annotations), nil
	default:
		return "", fmt.Errorf("unsupported fieldRef path %q (a downwardAPI volume supports metadata.name, metadata.namespace, metadata.uid, metadata.labels and metadata.annotations)", path)
	}
}

// subscript parses "<prefix>['key']".
func subscript(path, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(path, prefix+"['")
	if !ok {
		return "", false
	}
	return strings.CutSuffix(rest, "']")
}

// FormatMap renders a map as upstream's downward API does: one
// key="value" line per entry (the value Go-quoted), sorted by key, with
// no trailing newline.
func FormatMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	lines := make([]string, 0, len(keys))
	for _, k := range keys {
		lines = append(lines, fmt.Sprintf("%s=%q", k, m[k]))
	}
	return strings.Join(lines, "\n")
}

// resourceValue resolves limits.* and requests.* of the named container,
// divided by the divisor and rounded up, as upstream. Unset cpu, memory
// and ephemeral-storage limits default to the node's allocatable.
func resourceValue(in *SetupInput, ref *corev1.ResourceFieldSelector) (string, error) {
	c := findContainer(in.Pod, ref.ContainerName)
	if c == nil {
		return "", fmt.Errorf("resourceFieldRef: container %q not found in pod", ref.ContainerName)
	}
	kind, name, ok := strings.Cut(ref.Resource, ".")
	if !ok || (kind != "limits" && kind != "requests") {
		return "", fmt.Errorf("resourceFieldRef: unsupported resource %q", ref.Resource)
	}
	rn := corev1.ResourceName(name)
	var q resource.Quantity
	if kind == "limits" {
		q = c.Resources.Limits[rn]
		if q.IsZero() && isNodeResource(rn) {
			q = allocatable(in, rn)
		}
	} else {
		q = c.Resources.Requests[rn]
	}
	if !isNodeResource(rn) && !strings.HasPrefix(name, corev1.ResourceHugePagesPrefix) {
		return "", fmt.Errorf("resourceFieldRef: unsupported resource %q", ref.Resource)
	}
	return divide(rn, q, ref.Divisor), nil
}

func isNodeResource(rn corev1.ResourceName) bool {
	return rn == corev1.ResourceCPU || rn == corev1.ResourceMemory || rn == corev1.ResourceEphemeralStorage
}

// divide renders q/divisor rounded up; CPU is divided in millicores.
func divide(rn corev1.ResourceName, q, divisor resource.Quantity) string {
	if divisor.IsZero() {
		divisor = resource.MustParse("1")
	}
	var v float64
	if rn == corev1.ResourceCPU {
		v = math.Ceil(float64(q.MilliValue()) / float64(divisor.MilliValue()))
	} else {
		v = math.Ceil(float64(q.Value()) / float64(divisor.Value()))
	}
	return strconv.FormatInt(int64(v), 10)
}

// allocatable is the node's allocatable rn, or the machine's when the
// kubelet gave none.
func allocatable(in *SetupInput, rn corev1.ResourceName) resource.Quantity {
	if q, ok := in.NodeAllocatable[rn]; ok {
		return q
	}
	switch rn {
	case corev1.ResourceCPU:
		return *resource.NewQuantity(int64(runtime.NumCPU()), resource.DecimalSI)
	case corev1.ResourceMemory:
		var si unix.Sysinfo_t
		if unix.Sysinfo(&si) == nil {
			return *resource.NewQuantity(int64(si.Totalram)*int64(si.Unit), resource.BinarySI)
		}
	case corev1.ResourceEphemeralStorage:
		var st unix.Statfs_t
		if unix.Statfs(in.PodDir, &st) == nil {
			return *resource.NewQuantity(int64(st.Blocks)*st.Bsize, resource.BinarySI)
		}
	}
	return resource.Quantity{}
}

func findContainer(pod *corev1.Pod, name string) *corev1.Container {
	for _, list := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for i := range list {
			if list[i].Name == name || (name == "" && len(pod.Spec.Containers) == 1) {
				return &list[i]
			}
		}
	}
	return nil
}
