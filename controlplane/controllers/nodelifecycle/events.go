package nodelifecycle

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// event records a Normal Event about obj, as upstream's node lifecycle
// and taint eviction controllers do; failures are logged only.
func (c *Controller) event(ctx context.Context, ref corev1.ObjectReference, component, reason, message string) {
	if c.rec != nil {
		c.rec.Event(&ref, corev1.EventTypeNormal, reason, message)
		return
	}
	now := metav1.NewTime(c.clock.Now())
	ns := ref.Namespace
	if ns == "" {
		ns = metav1.NamespaceDefault
	}
	ev := &corev1.Event{
		// Named as client-go's event recorder names them.
		ObjectMeta:     metav1.ObjectMeta{Name: fmt.Sprintf("%s.%x", ref.Name, now.UnixNano()), Namespace: ns},
		InvolvedObject: ref,
		Reason:         reason,
		Message:        message,
		Type:           corev1.EventTypeNormal,
		Source:         corev1.EventSource{Component: component},
		FirstTimestamp: now,
		LastTimestamp:  now,
		Count:          1,
	}
	if _, err := c.client.CoreV1().Events(ns).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
		c.log.Warn("record event", "reason", reason, "object", ref.Name, "err", err)
	}
}

func nodeRef(name string) corev1.ObjectReference {
	// Upstream names node events by the node's name, also as its uid.
	return corev1.ObjectReference{Kind: "Node", APIVersion: "v1", Name: name, UID: types.UID(name)}
}

func podRef(p *corev1.Pod) corev1.ObjectReference {
	return corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: p.Namespace, Name: p.Name, UID: p.UID}
}
