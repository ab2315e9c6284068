package deployment

import (
	"encoding/json"
	"hash/fnv"
	"maps"
	"sort"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/rand"
)

const (
	// RevisionAnnotation is the revision of a Deployment's rollout, on the
	// Deployment and on each of its ReplicaSets.
	RevisionAnnotation = "deployment.kubernetes.io/revision"
	// HashLabel is the label that ties a ReplicaSet and its pods to one pod
	// template of the Deployment.
	HashLabel = appsv1.DefaultDeploymentUniqueLabelKey // "pod-template-hash"
)

// Reasons of the Progressing and Available conditions, those that kubectl
// rollout status reads and the upstream controller writes.
const (
	ReasonNewRSAvailable       = "NewReplicaSetAvailable"
	ReasonRSUpdated            = "ReplicaSetUpdated"
	ReasonNewRSCreated         = "NewReplicaSetCreated"
	ReasonFoundNewRS           = "FoundNewReplicaSet"
	ReasonTimedOut             = "ProgressDeadlineExceeded"
	ReasonPaused               = "DeploymentPaused"
	ReasonResumed              = "DeploymentResumed"
	ReasonMinimumAvailable     = "MinimumReplicasAvailable"
	ReasonMinimumUnavailable   = "MinimumReplicasUnavailable"
	ReasonReplicaSetCreateFail = "ReplicaSetCreateError"
)

// annotations that belong to the Deployment only and are not copied to its
// ReplicaSets.
var skipAnnotations = map[string]bool{
	corev1.LastAppliedConfigAnnotation:          true,
	RevisionAnnotation:                          true,
	"deployment.kubernetes.io/revision-history": true,
	"deployment.kubernetes.io/desired-replicas": true,
	"deployment.kubernetes.io/max-replicas":     true,
	"deprecated.deployment.rollback.to":         true,
}

// templateHash is the pod-template-hash of t (without its own hash label)
// and the collision count: FNV-32a over the template's JSON form, encoded
// with the same alphabet as upstream so names look alike.
func templateHash(t *corev1.PodTemplateSpec, collisionCount *int32) string {
	t = withoutHash(t)
	b, _ := json.Marshal(t) // map keys are sorted: deterministic
	h := fnv.New32a()
	h.Write(b)
	if collisionCount != nil {
		h.Write([]byte(strconv.Itoa(int(*collisionCount))))
	}
	return rand.SafeEncodeString(strconv.FormatUint(uint64(h.Sum32()), 10))
}

func withoutHash(t *corev1.PodTemplateSpec) *corev1.PodTemplateSpec {
	t = t.DeepCopy()
	delete(t.Labels, HashLabel)
	if len(t.Labels) == 0 {
		t.Labels = nil
	}
	return t
}

// equalIgnoreHash reports whether two pod templates are equal apart from
// the pod-template-hash label.
func equalIgnoreHash(a, b *corev1.PodTemplateSpec) bool {
	return apiequality.Semantic.DeepEqual(withoutHash(a), withoutHash(b))
}

func revision(rs *appsv1.ReplicaSet) int64 {
	v, err := strconv.ParseInt(rs.Annotations[RevisionAnnotation], 10, 64)
	if err != nil {
		return 0
	}
	return v
}

func replicas(n *int32) int32 {
	if n == nil {
		return 1
	}
	return *n
}

// surgeAndUnavailable resolves maxSurge (rounded up) and maxUnavailable
// (rounded down) against the desired replicas; both zero means one may be
// unavailable, as upstream.
func surgeAndUnavailable(d *appsv1.Deployment) (surge, unavailable int32) {
	if d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		return 0, replicas(d.Spec.Replicas)
	}
	def := intstr.FromString("25%")
	ms, mu := &def, &def
	if ru := d.Spec.Strategy.RollingUpdate; ru != nil {
		if ru.MaxSurge != nil {
			ms = ru.MaxSurge
		}
		if ru.MaxUnavailable != nil {
			mu = ru.MaxUnavailable
		}
	}
	want := int(replicas(d.Spec.Replicas))
	s, err := intstr.GetScaledValueFromIntOrPercent(ms, want, true)
	if err != nil {
		s = 0
	}
	u, err := intstr.GetScaledValueFromIntOrPercent(mu, want, false)
	if err != nil {
		u = 0
	}
	if s == 0 && u == 0 {
		u = 1
	}
	return int32(s), int32(min(u, want))
}

func sumSpec(rss []*appsv1.ReplicaSet) int32 {
	var n int32
	for _, rs := range rss {
		if rs != nil {
			n += replicas(rs.Spec.Replicas)
		}
	}
	return n
}

func sumStatus(rss []*appsv1.ReplicaSet, f func(*appsv1.ReplicaSetStatus) int32) int32 {
	var n int32
	for _, rs := range rss {
		if rs != nil {
			n += f(&rs.Status)
		}
	}
	return n
}

func byCreation(rss []*appsv1.ReplicaSet) {
	sort.SliceStable(rss, func(i, j int) bool {
		a, b := rss[i], rss[j]
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		return a.Name < b.Name
	})
}

// copyAnnotations copies the Deployment's annotations that belong on its
// ReplicaSets (kubernetes.io/change-cause, for rollout history) into dst.
func copyAnnotations(dst, src map[string]string) map[string]string {
	if dst == nil {
		dst = map[string]string{}
	}
	for k, v := range maps.All(src) {
		if !skipAnnotations[k] {
			dst[k] = v
		}
	}
	return dst
}
