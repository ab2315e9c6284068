package tables

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// printer knows the columns of one kind and how to fill a row.
type printer struct {
	gvk        schema.GroupVersionKind
	columns    []metav1.TableColumnDefinition
	cells      func(obj runtime.Object, m metav1.Object, now time.Time) []interface{}
	conditions func(obj runtime.Object) []metav1.TableRowCondition
}

// cellFunc is a typed row filler; typed adapts it to a printer's cells.
type cellFunc[T runtime.Object] func(obj T, now time.Time) []interface{}

func typed[T runtime.Object](gvk schema.GroupVersionKind, columns []metav1.TableColumnDefinition, f cellFunc[T]) printer {
	return printer{
		gvk:     gvk,
		columns: columns,
		cells: func(obj runtime.Object, _ metav1.Object, now time.Time) []interface{} {
			return f(obj.(T), now)
		},
	}
}

// printerFor returns the printer of an object's type, or the default
// NAME/AGE printer for any other type.
func printerFor(obj runtime.Object) printer {
	switch obj.(type) {
	case *corev1.Pod:
		return podPrinter()
	case *corev1.Service:
		return servicePrinter()
	case *corev1.Node:
		return nodePrinter()
	case *corev1.Namespace:
		return namespacePrinter()
	case *corev1.Endpoints:
		return endpointsPrinter()
	case *corev1.ConfigMap:
		return configMapPrinter()
	case *corev1.Secret:
		return secretPrinter()
	case *corev1.ServiceAccount:
		return serviceAccountPrinter()
	case *corev1.Event:
		return coreEventPrinter()
	case *eventsv1.Event:
		return eventsEventPrinter()
	case *appsv1.Deployment:
		return deploymentPrinter()
	case *appsv1.ReplicaSet:
		return replicaSetPrinter()
	case *appsv1.DaemonSet:
		return daemonSetPrinter()
	case *appsv1.StatefulSet:
		return statefulSetPrinter()
	case *batchv1.Job:
		return jobPrinter()
	case *batchv1.CronJob:
		return cronJobPrinter()
	case *coordinationv1.Lease:
		return leasePrinter()
	case *discoveryv1.EndpointSlice:
		return endpointSlicePrinter()
	case *networkingv1.Ingress:
		return ingressPrinter()
	case *networkingv1.IngressClass:
		return ingressClassPrinter()
	case *networkingv1.NetworkPolicy:
		return networkPolicyPrinter()
	case *rbacv1.Role:
		return rolePrinter()
	case *rbacv1.ClusterRole:
		return clusterRolePrinter()
	case *rbacv1.RoleBinding:
		return roleBindingPrinter()
	case *rbacv1.ClusterRoleBinding:
		return clusterRoleBindingPrinter()
	}
	return defaultPrinter()
}

// defaultPrinter prints NAME and AGE, for kinds without their own columns.
func defaultPrinter() printer {
	return printer{
		columns: []metav1.TableColumnDefinition{nameColumn(), ageColumn()},
		cells: func(_ runtime.Object, m metav1.Object, now time.Time) []interface{} {
			return []interface{}{m.GetName(), age(m.GetCreationTimestamp(), now)}
		},
	}
}
