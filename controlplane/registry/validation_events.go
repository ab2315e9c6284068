package registry

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

const (
	eventNoteMaxLength   = 1024
	eventActionMaxLength = 128
	notMatchingNamespace = "does not match event.namespace"
)

// validateCoreEvent: the lenient rules of the v1 Event API, which old
// clients use: the involved object's namespace must be the event's.
func validateCoreEvent(ev *corev1.Event) field.ErrorList {
	np := field.NewPath("involvedObject", "namespace")
	ns, objNS := ev.Namespace, ev.InvolvedObject.Namespace
	if objNS == "" {
		if ns != metav1.NamespaceDefault && (ev.EventTime.IsZero() || ns != metav1.NamespaceSystem) {
			return field.ErrorList{field.Invalid(np, objNS, notMatchingNamespace)}
		}
	} else if ns != objNS {
		return field.ErrorList{field.Invalid(np, objNS, notMatchingNamespace)}
	}
	return nil
}

// validateEventsEvent: the events.k8s.io/v1 rules for new events.
func validateEventsEvent(ev *eventsv1.Event) field.ErrorList {
	var errs field.ErrorList
	if ev.Regarding.Namespace != "" && ev.Regarding.Namespace != ev.Namespace {
		errs = append(errs, field.Invalid(field.NewPath("regarding", "namespace"), ev.Regarding.Namespace, notMatchingNamespace))
	}
	if ev.EventTime.IsZero() {
		errs = append(errs, field.Required(field.NewPath("eventTime"), ""))
	}
	if ev.Type != corev1.EventTypeNormal && ev.Type != corev1.EventTypeWarning {
		errs = append(errs, field.Invalid(field.NewPath("type"), "", fmt.Sprintf("has invalid value: %v", ev.Type)))
	}
	rc := field.NewPath("reportingController")
	if ev.ReportingController == "" {
		errs = append(errs, field.Required(rc, ""))
	} else {
		errs = append(errs, invalidEach(rc, ev.ReportingController, validation.IsQualifiedName(ev.ReportingController))...)
	}
	for name, v := range map[string]string{"reportingInstance": ev.ReportingInstance, "action": ev.Action, "reason": ev.Reason} {
		if v == "" {
			errs = append(errs, field.Required(field.NewPath(name), ""))
		}
	}
	if len(ev.Action) > eventActionMaxLength {
		errs = append(errs, field.Invalid(field.NewPath("action"), "", fmt.Sprintf("can have at most %d characters", eventActionMaxLength)))
	}
	if len(ev.Reason) > eventActionMaxLength {
		errs = append(errs, field.Invalid(field.NewPath("reason"), "", fmt.Sprintf("can have at most %d characters", eventActionMaxLength)))
	}
	if len(ev.Note) > eventNoteMaxLength {
		errs = append(errs, field.Invalid(field.NewPath("note"), "", fmt.Sprintf("can have at most %d characters", eventNoteMaxLength)))
	}
	return errs
}
