package serviceaccount

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Names the ServiceAccount admission uses, as upstream.
const (
	// DefaultName is the service account pods run as unless they name one.
	DefaultName = "default"
	// VolumePrefix starts the name of the API access volume
	// (kube-api-access-<5 random characters>).
	VolumePrefix = "kube-api-access-"
	// MountPath is where containers find token, ca.crt and namespace.
	MountPath = "/var/run/secrets/kubernetes.io/serviceaccount"
	// RootCAConfigMap holds the cluster CA in every namespace, under ca.crt.
	RootCAConfigMap = "kube-root-ca.crt"
	// RootCAKey is the key of the CA bundle in RootCAConfigMap.
	RootCAKey = "ca.crt"
	// TokenExpirationSeconds is the lifetime the projected token asks for.
	TokenExpirationSeconds = 3607
	// MirrorPodAnnotation marks static pods mirrored by a kubelet.
	MirrorPodAnnotation = "kubernetes.io/config.mirror"
)

// IsMirrorPod tells whether pod is a kubelet's mirror pod, whose spec
// admission must not change.
func IsMirrorPod(pod *corev1.Pod) bool {
	_, ok := pod.Annotations[MirrorPodAnnotation]
	return ok
}

// ShouldAutomount tells whether pod gets the API access volume: the pod's
// automountServiceAccountToken wins over the service account's; both
// unset mean yes.
func ShouldAutomount(sa *corev1.ServiceAccount, pod *corev1.Pod) bool {
	if pod.Spec.AutomountServiceAccountToken != nil {
		return *pod.Spec.AutomountServiceAccountToken
	}
	if sa != nil && sa.AutomountServiceAccountToken != nil {
		return *sa.AutomountServiceAccountToken
	}
	return true
}

// MountAPIAccess mounts the API access volume read-only at MountPath in
// every init container and container that does not already mount
// something there, and adds the volume (named VolumePrefix+suffix unless
// the pod already has one) when a container needs it.
func MountAPIAccess(pod *corev1.Pod, suffix string) {
	name, has := "", false
	for _, v := range pod.Spec.Volumes {
		if strings.HasPrefix(v.Name, VolumePrefix) {
			name, has = v.Name, true
			break
		}
	}
	if name == "" {
		name = VolumePrefix + suffix
	}
	mount := corev1.VolumeMount{Name: name, ReadOnly: true, MountPath: MountPath}
	needed := mountIn(pod.Spec.InitContainers, mount)
	needed = mountIn(pod.Spec.Containers, mount) || needed
	if needed && !has {
		pod.Spec.Volumes = append(pod.Spec.Volumes, APIAccessVolume(name))
	}
}

// mountIn adds mount to the containers that lack one at its path and
// tells whether it added any.
func mountIn(cs []corev1.Container, mount corev1.VolumeMount) bool {
	added := false
	for i := range cs {
		if !mountsPath(cs[i], mount.MountPath) {
			cs[i].VolumeMounts = append(cs[i].VolumeMounts, mount)
			added = true
		}
	}
	return added
}

func mountsPath(c corev1.Container, path string) bool {
	for _, m := range c.VolumeMounts {
		if m.MountPath == path {
			return true
		}
	}
	return false
}

// APIAccessVolume is the projected volume of token, ca.crt and namespace.
func APIAccessVolume(name string) corev1.Volume {
	mode := int32(0o644)
	expiry := int64(TokenExpirationSeconds)
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		DefaultMode: &mode,
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{ExpirationSeconds: &expiry, Path: "token"}},
			{ConfigMap: &corev1.ConfigMapProjection{
				LocalObjectReference: corev1.LocalObjectReference{Name: RootCAConfigMap},
				Items:                []corev1.KeyToPath{{Key: RootCAKey, Path: RootCAKey}},
			}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{
				Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"},
			}}}},
		},
	}}}
}
