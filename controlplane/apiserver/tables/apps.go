package tables

import (
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// defaultReplicas is what an unset spec.replicas means for the apps kinds.
const defaultReplicas = 1

func deploymentPrinter() printer {
	status := appsv1.DeploymentStatus{}.SwaggerDoc()
	return typed(appsv1.SchemeGroupVersion.WithKind("Deployment"), columns(
		[]metav1.TableColumnDefinition{
			nameColumn(),
			column("Ready", "string", "Number of the pod with ready state"),
			column("Up-to-date", "string", status["updatedReplicas"]),
			column("Available", "string", status["availableReplicas"]),
			ageColumn(),
		},
		templateColumns(),
		[]metav1.TableColumnDefinition{wide(column("Selector", "string", appsv1.DeploymentSpec{}.SwaggerDoc()["selector"]))},
	), deploymentCells)
}

func deploymentCells(d *appsv1.Deployment, now time.Time) []interface{} {
	names, images := containerCells(d.Spec.Template.Spec.Containers)
	desired := derefInt32(d.Spec.Replicas, defaultReplicas)
	return []interface{}{
		d.Name, fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, desired),
		int64(d.Status.UpdatedReplicas), int64(d.Status.AvailableReplicas), age(d.CreationTimestamp, now),
		names, images, selectorString(d.Spec.Selector),
	}
}

// selectorString is the deployment form of a selector: "" when it selects
// nothing or everything, "<invalid>" when it does not parse.
func selectorString(s *metav1.LabelSelector) string {
	sel, err := metav1.LabelSelectorAsSelector(s)
	if err != nil {
		return "<invalid>"
	}
	return sel.String()
}

func replicaSetPrinter() printer {
	spec, status := appsv1.ReplicaSetSpec{}.SwaggerDoc(), appsv1.ReplicaSetStatus{}.SwaggerDoc()
	return typed(appsv1.SchemeGroupVersion.WithKind("ReplicaSet"), columns(
		[]metav1.TableColumnDefinition{
			nameColumn(),
			column("Desired", "integer", spec["replicas"]),
			column("Current", "integer", status["replicas"]),
			column("Ready", "integer", status["readyReplicas"]),
			ageColumn(),
		},
		templateColumns(),
		[]metav1.TableColumnDefinition{wide(column("Selector", "string", spec["selector"]))},
	), replicaSetCells)
}

func replicaSetCells(rs *appsv1.ReplicaSet, now time.Time) []interface{} {
	names, images := containerCells(rs.Spec.Template.Spec.Containers)
	return []interface{}{
		rs.Name, int64(derefInt32(rs.Spec.Replicas, defaultReplicas)), int64(rs.Status.Replicas),
		int64(rs.Status.ReadyReplicas), age(rs.CreationTimestamp, now),
		names, images, metav1.FormatLabelSelector(rs.Spec.Selector),
	}
}

func daemonSetPrinter() printer {
	status := appsv1.DaemonSetStatus{}.SwaggerDoc()
	return typed(appsv1.SchemeGroupVersion.WithKind("DaemonSet"), columns(
		[]metav1.TableColumnDefinition{
			nameColumn(),
			column("Desired", "integer", status["desiredNumberScheduled"]),
			column("Current", "integer", status["currentNumberScheduled"]),
			column("Ready", "integer", status["numberReady"]),
			column("Up-to-date", "integer", status["updatedNumberScheduled"]),
			column("Available", "integer", status["numberAvailable"]),
			column("Node Selector", "string", corev1.PodSpec{}.SwaggerDoc()["nodeSelector"]),
			ageColumn(),
		},
		templateColumns(),
		[]metav1.TableColumnDefinition{wide(column("Selector", "string", appsv1.DaemonSetSpec{}.SwaggerDoc()["selector"]))},
	), daemonSetCells)
}

func daemonSetCells(ds *appsv1.DaemonSet, now time.Time) []interface{} {
	names, images := containerCells(ds.Spec.Template.Spec.Containers)
	st := ds.Status
	return []interface{}{
		ds.Name, int64(st.DesiredNumberScheduled), int64(st.CurrentNumberScheduled), int64(st.NumberReady),
		int64(st.UpdatedNumberScheduled), int64(st.NumberAvailable),
		labels.FormatLabels(ds.Spec.Template.Spec.NodeSelector), age(ds.CreationTimestamp, now),
		names, images, metav1.FormatLabelSelector(ds.Spec.Selector),
	}
}

func statefulSetPrinter() printer {
	return typed(appsv1.SchemeGroupVersion.WithKind("StatefulSet"), columns(
		[]metav1.TableColumnDefinition{
			nameColumn(),
			column("Ready", "string", "Number of the pod with ready state"),
			ageColumn(),
		},
		templateColumns(),
	), statefulSetCells)
}

func statefulSetCells(sts *appsv1.StatefulSet, now time.Time) []interface{} {
	names, images := containerCells(sts.Spec.Template.Spec.Containers)
	return []interface{}{
		sts.Name, fmt.Sprintf("%d/%d", sts.Status.ReadyReplicas, derefInt32(sts.Spec.Replicas, defaultReplicas)),
		age(sts.CreationTimestamp, now), names, images,
	}
}
