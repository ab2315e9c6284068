package router

import (
	"sort"

	networkingv1 "k8s.io/api/networking/v1"
)

// The annotations that select an Ingress's class.
const (
	// LegacyClassAnnotation is the pre-IngressClass way to name a class.
	LegacyClassAnnotation = "kubernetes.io/ingress.class"
	// DefaultClassAnnotation marks the cluster's default IngressClass.
	DefaultClassAnnotation = networkingv1.AnnotationIsDefaultIngressClass
)

// selectIngresses returns our Ingresses, oldest first (creationTimestamp,
// then namespace/name).
func selectIngresses(cfg Config, in Input) []*networkingv1.Ingress {
	ours := map[string]bool{}
	ourDefault := false
	for _, c := range in.Classes {
		if c == nil || c.Spec.Controller != cfg.Controller {
			continue
		}
		ours[c.Name] = true
		if c.Annotations[DefaultClassAnnotation] == "true" {
			ourDefault = true
		}
	}
	var out []*networkingv1.Ingress
	for _, ing := range in.Ingresses {
		if ing != nil && isOurs(ing, ours, ourDefault || cfg.WatchWithoutClass) {
			out = append(out, ing)
		}
	}
	sort.Slice(out, func(i, j int) bool { return older(out[i], out[j]) })
	return out
}

// isOurs applies the class rules to one Ingress; classless says whether
// Ingresses without any class are ours.
func isOurs(ing *networkingv1.Ingress, ours map[string]bool, classless bool) bool {
	if name := ing.Spec.IngressClassName; name != nil && *name != "" {
		return ours[*name]
	}
	if name, ok := ing.Annotations[LegacyClassAnnotation]; ok && name != "" {
		return ours[name]
	}
	return classless
}

// older orders Ingresses by creationTimestamp, then namespace/name.
func older(a, b *networkingv1.Ingress) bool {
	ta, tb := a.CreationTimestamp.Time, b.CreationTimestamp.Time
	if !ta.Equal(tb) {
		return ta.Before(tb)
	}
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	return a.Name < b.Name
}
