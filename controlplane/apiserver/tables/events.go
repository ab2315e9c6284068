package tables

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// eventView holds what the event columns need, so core/v1 and
// events.k8s.io/v1 Events print alike (upstream serves both from one
// internal type and one printer).
type eventView struct {
	name                string
	eventType, reason   string
	message             string
	regarding           corev1.ObjectReference
	source              corev1.EventSource
	reportingController string
	reportingInstance   string
	eventTime           metav1.MicroTime
	firstTimestamp      metav1.Time
	lastTimestamp       metav1.Time
	count               int32
	series              *eventsv1.EventSeries
}

func eventColumns() []metav1.TableColumnDefinition {
	doc := corev1.Event{}.SwaggerDoc()
	return []metav1.TableColumnDefinition{
		column("Last Seen", "string", doc["lastTimestamp"]),
		column("Type", "string", doc["type"]),
		column("Reason", "string", doc["reason"]),
		column("Object", "string", doc["involvedObject"]),
		wide(column("Subobject", "string", corev1.ObjectReference{}.SwaggerDoc()["fieldPath"])),
		wide(column("Source", "string", doc["source"])),
		column("Message", "string", doc["message"]),
		wide(column("First Seen", "string", doc["firstTimestamp"])),
		wide(column("Count", "string", doc["count"])),
		wide(nameColumn()),
	}
}

func coreEventPrinter() printer {
	return typed(corev1.SchemeGroupVersion.WithKind("Event"), eventColumns(),
		func(e *corev1.Event, now time.Time) []interface{} { return coreEventView(e).cells(now) })
}

func eventsEventPrinter() printer {
	return typed(eventsv1.SchemeGroupVersion.WithKind("Event"), eventColumns(),
		func(e *eventsv1.Event, now time.Time) []interface{} { return eventsEventView(e).cells(now) })
}

func coreEventView(e *corev1.Event) eventView {
	v := eventView{
		name: e.Name, eventType: e.Type, reason: e.Reason, message: e.Message,
		regarding: e.InvolvedObject, source: e.Source,
		reportingController: e.ReportingController, reportingInstance: e.ReportingInstance,
		eventTime: e.EventTime, firstTimestamp: e.FirstTimestamp, lastTimestamp: e.LastTimestamp,
		count: e.Count,
	}
	if e.Series != nil {
		v.series = &eventsv1.EventSeries{Count: e.Series.Count, LastObservedTime: e.Series.LastObservedTime}
	}
	return v
}

func eventsEventView(e *eventsv1.Event) eventView {
	return eventView{
		name: e.Name, eventType: e.Type, reason: e.Reason, message: e.Note,
		regarding: e.Regarding, source: e.DeprecatedSource,
		reportingController: e.ReportingController, reportingInstance: e.ReportingInstance,
		eventTime: e.EventTime, firstTimestamp: e.DeprecatedFirstTimestamp, lastTimestamp: e.DeprecatedLastTimestamp,
		count: e.DeprecatedCount, series: e.Series,
	}
}

func (v eventView) cells(now time.Time) []interface{} {
	first := age(v.firstTimestamp, now)
	if v.firstTimestamp.IsZero() {
		first = microAge(v.eventTime, now)
	}
	last := age(v.lastTimestamp, now)
	if v.lastTimestamp.IsZero() {
		last = first
	}
	count := v.count
	if v.series != nil {
		last, count = microAge(v.series.LastObservedTime, now), v.series.Count
	} else if count == 0 {
		count = 1 // singleton events of the new API carry no count
	}
	return []interface{}{
		last, v.eventType, v.reason, eventObject(v.regarding), v.regarding.FieldPath,
		eventSource(v), strings.TrimSpace(v.message), first, int64(count), v.name,
	}
}

// eventObject is "kind/name" of the regarded object, lowercased kind; the
// group is left out, as upstream does.
func eventObject(ref corev1.ObjectReference) string {
	kind := strings.ToLower(ref.Kind)
	if ref.Name == "" {
		return kind
	}
	return fmt.Sprintf("%s/%s", kind, ref.Name)
}

// eventSource is "component, host", falling back to the reporting
// controller and instance.
func eventSource(v eventView) string {
	component := firstNonEmpty(v.source.Component, v.reportingController)
	host := firstNonEmpty(v.source.Host, v.reportingInstance)
	if host == "" {
		return component
	}
	return component + ", " + host
}
