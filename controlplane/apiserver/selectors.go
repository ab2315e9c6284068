package apiserver

import (
	"errors"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"rudder/controlplane/catalog"
	"rudder/controlplane/storage"
)

func apierrorsIsCompacted(err error) bool { return errors.Is(err, storage.ErrCompacted) }

// selector is a parsed label and field selector.
type selector struct {
	labels labels.Selector
	fields fields.Selector
}

func (s *selector) empty() bool { return s.labels.Empty() && s.fields.Empty() }

// parseSelector parses both selectors, rejecting fields the resource does
// not support, as upstream does.
func parseSelector(res catalog.Resource, labelSel, fieldSel string) (*selector, error) {
	ls, err := labels.Parse(labelSel)
	if err != nil {
		return nil, badRequest("unable to parse requirement: %v", err)
	}
	fs, err := fields.ParseSelector(fieldSel)
	if err != nil {
		return nil, badRequest("invalid field selector: %v", err)
	}
	supported := supportedFields(res)
	for _, req := range fs.Requirements() {
		if !supported[req.Field] {
			return nil, badRequest("field label not supported: %s", req.Field)
		}
	}
	return &selector{labels: ls, fields: fs}, nil
}

// matches tells whether obj is selected.
func (s *selector) matches(obj runtime.Object) bool {
	if s.empty() {
		return true
	}
	acc, err := meta.Accessor(obj)
	if err != nil {
		return false
	}
	if !s.labels.Matches(labels.Set(acc.GetLabels())) {
		return false
	}
	return s.fields.Empty() || s.fields.Matches(fieldSet(obj))
}

var podFields = []string{"spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
	"spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"}

var eventFields = []string{"involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
	"involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
	"involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"}

func supportedFields(res catalog.Resource) map[string]bool {
	m := map[string]bool{"metadata.name": true}
	if res.Namespaced {
		m["metadata.namespace"] = true
	}
	var extra []string
	switch {
	case res.Group == "" && res.Resource == "pods":
		extra = podFields
	case res.Group == "" && res.Resource == "events":
		extra = eventFields
	case res.Group == "" && res.Resource == "secrets":
		extra = []string{"type"}
	case res.Group == "" && res.Resource == "nodes":
		extra = []string{"spec.unschedulable"}
	case res.Group == "" && res.Resource == "namespaces":
		extra = []string{"status.phase"}
	case res.Group == "apps" && res.Resource == "replicasets":
		extra = []string{"status.replicas"}
	}
	for _, f := range extra {
		m[f] = true
	}
	return m
}

// fieldSet returns the selectable fields of obj.
func fieldSet(obj runtime.Object) fields.Set {
	acc, _ := meta.Accessor(obj)
	set := fields.Set{"metadata.name": acc.GetName()}
	if acc.GetNamespace() != "" {
		set["metadata.namespace"] = acc.GetNamespace()
	}
	switch o := obj.(type) {
	case *corev1.Pod:
		set["spec.nodeName"] = o.Spec.NodeName
		set["spec.restartPolicy"] = string(o.Spec.RestartPolicy)
		set["spec.schedulerName"] = o.Spec.SchedulerName
		set["spec.serviceAccountName"] = o.Spec.ServiceAccountName
		set["spec.hostNetwork"] = strconv.FormatBool(o.Spec.HostNetwork)
		set["status.phase"] = string(o.Status.Phase)
		set["status.podIP"] = o.Status.PodIP
		set["status.nominatedNodeName"] = o.Status.NominatedNodeName
	case *corev1.Event:
		io := o.InvolvedObject
		set["involvedObject.kind"], set["involvedObject.namespace"], set["involvedObject.name"] = io.Kind, io.Namespace, io.Name
		set["involvedObject.uid"], set["involvedObject.apiVersion"] = string(io.UID), io.APIVersion
		set["involvedObject.resourceVersion"], set["involvedObject.fieldPath"] = io.ResourceVersion, io.FieldPath
		set["reason"], set["reportingComponent"], set["type"] = o.Reason, o.ReportingController, o.Type
		set["source"] = o.Source.Component
	case *corev1.Secret:
		set["type"] = string(o.Type)
	case *corev1.Node:
		set["spec.unschedulable"] = strconv.FormatBool(o.Spec.Unschedulable)
	case *corev1.Namespace:
		set["status.phase"] = string(o.Status.Phase)
	case *appsv1.ReplicaSet:
		set["status.replicas"] = strconv.Itoa(int(o.Status.Replicas))
	}
	return set
}
