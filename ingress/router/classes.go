package router

import (
	"sort"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"
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

// unowned returns the Ingresses that no controller serves, sorted: their
// spec.ingressClassName names an IngressClass that does not exist, or
// they name no class while no class is the default (and
// WatchWithoutClass does not make them ours). One named only by the
// legacy annotation may belong to a controller that predates
// IngressClass, so it is not counted.
func unowned(cfg Config, in Input) []types.NamespacedName {
	exists := map[string]bool{}
	anyDefault := false
	for _, c := range in.Classes {
		if c == nil {
			continue
		}
		exists[c.Name] = true
		anyDefault = anyDefault || c.Annotations[DefaultClassAnnotation] == "true"
	}
	var out []types.NamespacedName
	for _, ing := range in.Ingresses {
		if ing == nil {
			continue
		}
		_, legacy := ing.Annotations[LegacyClassAnnotation]
		name := ing.Spec.IngressClassName
		switch {
		case name != nil && *name != "" && exists[*name]:
		case name != nil && *name != "":
			out = append(out, types.NamespacedName{Namespace: ing.Namespace, Name: ing.Name})
		case !legacy && !anyDefault && !cfg.WatchWithoutClass:
			out = append(out, types.NamespacedName{Namespace: ing.Namespace, Name: ing.Name})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
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
