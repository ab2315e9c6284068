package controller

import (
	"log/slog"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/client-go/tools/record"

	"rudder/ingress/router"
)

// eventLog turns the router's findings into Events on the Ingresses. The
// router reports every finding on every build; eventLog emits only those
// that are new since the last build, so a standing problem is one Event,
// and one that goes away and comes back is reported again.
type eventLog struct {
	rec  record.EventRecorder
	log  *slog.Logger
	seen map[router.Event]bool
}

func newEventLog(rec record.EventRecorder, log *slog.Logger) *eventLog {
	return &eventLog{rec: rec, log: log, seen: map[router.Event]bool{}}
}

func (l *eventLog) report(ings map[string]*networkingv1.Ingress, events []router.Event) {
	now := make(map[router.Event]bool, len(events))
	for _, e := range events {
		now[e] = true
		if l.seen[e] {
			continue
		}
		// Findings about the controller's own configuration (the global
		// default backend) belong to no Ingress: they go to the log.
		if e.Namespace == "" && e.Name == "" {
			l.log.Warn("ingress configuration: "+e.Message, "reason", e.Reason)
			continue
		}
		if ing := ings[e.Namespace+"/"+e.Name]; ing != nil {
			l.rec.Event(ing, e.Type, e.Reason, e.Message)
		}
	}
	l.seen = now
}
