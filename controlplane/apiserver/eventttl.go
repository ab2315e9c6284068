package apiserver

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"

	"rudder/controlplane/catalog"
	"rudder/controlplane/storage"
)

// EventTTL is how long events live, as upstream's --event-ttl default.
const EventTTL = time.Hour

// expireEvents deletes core and events.k8s.io events last seen more than
// ttl ago, every interval, until ctx ends. Upstream attaches an etcd lease
// to each event; the store has no leases, so the server sweeps instead.
func (s *Server) expireEvents(ctx context.Context, ttl, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, gvr := range []struct{ group, version string }{{"", "v1"}, {"events.k8s.io", "v1"}} {
			res, ok := catalog.Lookup(corev1.SchemeGroupVersion.WithResource("events"))
			if gvr.group != "" {
				res, ok = catalog.Lookup(eventsv1.SchemeGroupVersion.WithResource("events"))
			}
			if !ok {
				continue
			}
			if n, err := s.expireOf(ctx, res, time.Now().Add(-ttl)); err != nil {
				s.log.Warn("expire events", "group", gvr.group, "err", err)
			} else if n > 0 {
				s.log.Debug("expired events", "group", gvr.group, "count", n)
			}
		}
	}
}

func (s *Server) expireOf(ctx context.Context, res catalog.Resource, before time.Time) (int, error) {
	list, err := s.objects.List(ctx, res, "", storage.ListOptions{})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, obj := range list.Items {
		if lastSeen(obj).After(before) {
			continue
		}
		acc, _ := meta.Accessor(obj)
		if _, err := s.objects.Delete(ctx, res, acc.GetNamespace(), acc.GetName(), 0); err == nil {
			n++
		}
	}
	return n, nil
}

// lastSeen is when an event last happened (else when it was created).
func lastSeen(obj runtime.Object) time.Time {
	switch e := obj.(type) {
	case *corev1.Event:
		for _, t := range []time.Time{e.LastTimestamp.Time, e.EventTime.Time} {
			if !t.IsZero() {
				return t
			}
		}
	case *eventsv1.Event:
		if e.Series != nil && !e.Series.LastObservedTime.IsZero() {
			return e.Series.LastObservedTime.Time
		}
		if !e.EventTime.IsZero() {
			return e.EventTime.Time
		}
	}
	acc, _ := meta.Accessor(obj)
	return acc.GetCreationTimestamp().Time
}
