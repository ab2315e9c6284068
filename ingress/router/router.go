package router

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"

	"rudder/ingress/annotations"
)

// DefaultController is the IngressClass controller name served by default.
const DefaultController = "rudder.io/ingress"

// Config is how Build selects and completes Ingresses.
type Config struct {
	// Controller is the spec.controller of our IngressClasses
	// (DefaultController when empty).
	Controller string
	// DefaultBackend is the global default backend,
	// "namespace/service:port" with the port by name or number; empty
	// means none (404). See ParseServiceRef.
	DefaultBackend string
	// WatchWithoutClass serves Ingresses with no class at all even when
	// none of our classes is the default class.
	WatchWithoutClass bool
	// DefaultCertificate is the "namespace/name" of a kubernetes.io/tls
	// Secret served to TLS clients no Ingress has a certificate for
	// (ingress-nginx's --default-ssl-certificate); empty means the
	// proxy's generated one. See ParseSecretRef.
	DefaultCertificate string
	// Certs, when set, keeps parsed certificates across builds. Nil
	// parses every Secret on every Build.
	Certs *CertCache
}

// Input is one snapshot of the watched objects. Build never modifies
// them: they are shared with informer caches.
type Input struct {
	Classes        []*networkingv1.IngressClass
	Ingresses      []*networkingv1.Ingress
	Services       []*corev1.Service
	EndpointSlices []*discoveryv1.EndpointSlice
	Secrets        []*corev1.Secret
}

// Result is one compiled configuration.
type Result struct {
	Table *Table
	// Served are our Ingresses, sorted: they get status addresses.
	Served []types.NamespacedName
	// Unowned are the Ingresses no controller serves (see unowned),
	// sorted: an address in their status is a leftover.
	Unowned []types.NamespacedName
	// Events are about individual Ingresses (or, with empty Namespace
	// and Name, about Config), sorted.
	Events []Event
}

// Event is something to tell an Ingress's owner.
type Event struct {
	// Namespace and Name are the Ingress's.
	Namespace, Name string
	// Type is "Normal" or "Warning".
	Type    string
	Reason  string
	Message string
}

// The event types.
const (
	Normal  = "Normal"
	Warning = "Warning"
)

// The event reasons.
const (
	ReasonConflict              = "Conflict"
	ReasonServiceNotFound       = "ServiceNotFound"
	ReasonPortNotFound          = "PortNotFound"
	ReasonUnsupportedBackend    = "UnsupportedBackend"
	ReasonSecretNotFound        = "SecretNotFound"
	ReasonInvalidCertificate    = "InvalidCertificate"
	ReasonUnknownAnnotation     = "UnknownAnnotation"
	ReasonInvalidAnnotation     = "InvalidAnnotation"
	ReasonInvalidPath           = "InvalidPath"
	ReasonInvalidHost           = "InvalidHost"
	ReasonInvalidDefaultBackend = "InvalidDefaultBackend"
	ReasonInvalidDefaultCert    = "InvalidDefaultCertificate"
)

// Build compiles in into a Table. It never fails: what cannot be served
// is reported in Result.Events.
func Build(cfg Config, in Input) *Result {
	if cfg.Controller == "" {
		cfg.Controller = DefaultController
	}
	b := newBuilder(cfg, in)
	ours := selectIngresses(cfg, in)
	b.parseAnnotations(ours)
	b.buildCerts(ours)
	for i, ing := range ours {
		b.addRules(i, ing)
	}
	for _, ing := range ours {
		b.addDefaultBackend(ing)
	}
	b.addGlobalDefault()
	b.addDefaultCert()
	b.table.finish()
	if cfg.Certs != nil {
		cfg.Certs.retain(b.secretsUsed)
	}
	res := &Result{Table: b.table, Events: b.sortedEvents()}
	for _, ing := range ours {
		res.Served = append(res.Served, types.NamespacedName{Namespace: ing.Namespace, Name: ing.Name})
	}
	sort.Slice(res.Served, func(i, j int) bool { return res.Served[i].String() < res.Served[j].String() })
	res.Unowned = unowned(cfg, in)
	return res
}

// ParseServiceRef reads "namespace/service:port" (port by name or
// number), the form of Config.DefaultBackend.
func ParseServiceRef(s string) (namespace, service, port string, err error) {
	ns, rest, ok := strings.Cut(s, "/")
	if !ok || ns == "" {
		return "", "", "", fmt.Errorf("parse service reference %q: want namespace/service:port", s)
	}
	svc, port, ok := strings.Cut(rest, ":")
	if !ok || svc == "" || port == "" || strings.ContainsAny(port, "/:") || strings.Contains(svc, "/") {
		return "", "", "", fmt.Errorf("parse service reference %q: want namespace/service:port", s)
	}
	if n, err := strconv.Atoi(port); err == nil && (n < 1 || n > 65535) {
		return "", "", "", fmt.Errorf("parse service reference %q: port %d out of range", s, n)
	}
	return ns, svc, port, nil
}

// builder holds one Build's indexes and accumulators.
type builder struct {
	cfg         Config
	services    map[string]*corev1.Service              // by namespace/name
	slices      map[string][]*discoveryv1.EndpointSlice // by namespace/service
	secrets     map[string]*corev1.Secret               // by namespace/name
	backends    map[string]backendResult                // by Backend.Key
	annotations map[*networkingv1.Ingress]annotations.Result
	owners      map[string]*networkingv1.Ingress // conflict key → winner
	events      map[Event]struct{}
	secretsUsed map[string]bool
	table       *Table
}

func newBuilder(cfg Config, in Input) *builder {
	b := &builder{
		cfg:         cfg,
		services:    map[string]*corev1.Service{},
		slices:      map[string][]*discoveryv1.EndpointSlice{},
		secrets:     map[string]*corev1.Secret{},
		backends:    map[string]backendResult{},
		annotations: map[*networkingv1.Ingress]annotations.Result{},
		owners:      map[string]*networkingv1.Ingress{},
		events:      map[Event]struct{}{},
		secretsUsed: map[string]bool{},
		table:       newTable(),
	}
	for _, s := range in.Services {
		if s != nil {
			b.services[s.Namespace+"/"+s.Name] = s
		}
	}
	for _, es := range in.EndpointSlices {
		if es == nil || es.Labels[discoveryv1.LabelServiceName] == "" {
			continue
		}
		k := es.Namespace + "/" + es.Labels[discoveryv1.LabelServiceName]
		b.slices[k] = append(b.slices[k], es)
	}
	for _, s := range in.Secrets {
		if s != nil {
			b.secrets[s.Namespace+"/"+s.Name] = s
		}
	}
	return b
}

// warn records a Warning Event about ing (nil: about Config).
func (b *builder) warn(ing *networkingv1.Ingress, reason, format string, args ...any) {
	e := Event{Type: Warning, Reason: reason, Message: fmt.Sprintf(format, args...)}
	if ing != nil {
		e.Namespace, e.Name = ing.Namespace, ing.Name
	}
	b.events[e] = struct{}{}
}

func (b *builder) sortedEvents() []Event {
	out := make([]Event, 0, len(b.events))
	for e := range b.events {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		a, c := out[i], out[j]
		switch {
		case a.Namespace != c.Namespace:
			return a.Namespace < c.Namespace
		case a.Name != c.Name:
			return a.Name < c.Name
		case a.Reason != c.Reason:
			return a.Reason < c.Reason
		case a.Message != c.Message:
			return a.Message < c.Message
		}
		return a.Type < c.Type
	})
	return out
}

// parseAnnotations parses every Ingress's annotations once and reports
// their problems.
func (b *builder) parseAnnotations(ours []*networkingv1.Ingress) {
	for _, ing := range ours {
		res := annotations.Parse(ing.Annotations)
		for _, p := range res.Problems {
			reason := ReasonInvalidAnnotation
			if p.Unknown {
				reason = ReasonUnknownAnnotation
			}
			b.warn(ing, reason, "annotation %s: %s", p.Key, p.Message)
		}
		b.annotations[ing] = res
	}
}
