package volumes

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"rudder/controlplane/kubelet/podenv"
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
	if v, ok := podenv.MetadataField(pod, path); ok {
		return v, nil
	}
	return "", fmt.Errorf("unsupported fieldRef path %q (a downwardAPI volume supports metadata.name, metadata.namespace, metadata.uid, metadata.labels and metadata.annotations)", path)
}

// FormatMap renders labels or annotations as the downward API does.
func FormatMap(m map[string]string) string { return podenv.FormatMap(m) }

// resourceValue resolves limits.* and requests.* of the named container,
// divided by the divisor and rounded up, as upstream. Unset cpu, memory
// and ephemeral-storage limits default to the node's allocatable.
func resourceValue(in *SetupInput, ref *corev1.ResourceFieldSelector) (string, error) {
	c := findContainer(in.Pod, ref.ContainerName)
	if c == nil {
		return "", fmt.Errorf("resourceFieldRef: container %q not found in pod", ref.ContainerName)
	}
	alloc := corev1.ResourceList{}
	for _, rn := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage} {
		alloc[rn] = allocatable(in, rn)
	}
	v, err := podenv.ResourceValue(ref, c, alloc)
	if err != nil {
		return "", fmt.Errorf("resourceFieldRef: %w", err)
	}
	return v, nil
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
