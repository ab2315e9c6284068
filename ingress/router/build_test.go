package router

import (
	"math/rand/v2"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"

	"rudder/ingress/route"
)

func TestClassSelection(t *testing.T) {
	named := func(name, class string) *networkingv1.Ingress {
		i := ing("ns", name, 0, rule("x.com", path(prefix, "/", "svc", 80)))
		i.Spec.IngressClassName = nil
		if class != "" {
			i.Spec.IngressClassName = &class
		}
		return i
	}
	legacy := func(name, class string) *networkingv1.Ingress {
		return withAnnotations(named(name, ""), LegacyClassAnnotation, class)
	}
	all := []*networkingv1.Ingress{
		named("by-name", "rudder"), named("other", "nginx"), named("missing", "nope"),
		legacy("legacy", "rudder"), legacy("legacy-other", "nginx"), legacy("legacy-missing", "nope"),
		named("classless", ""),
	}
	for _, tc := range []struct {
		name    string
		classes []*networkingv1.IngressClass
		cfg     Config
		want    []string
		// unowned: no controller serves them; legacy-annotated ones
		// never count (a pre-IngressClass controller may).
		unowned []string
	}{
		{"ours not default", []*networkingv1.IngressClass{ourClass("rudder", false), otherClass("nginx", false)},
			Config{}, []string{"by-name", "legacy"}, []string{"classless", "missing"}},
		{"ours default", []*networkingv1.IngressClass{ourClass("rudder", true), otherClass("nginx", false)},
			Config{}, []string{"by-name", "classless", "legacy"}, []string{"missing"}},
		{"other default", []*networkingv1.IngressClass{ourClass("rudder", false), otherClass("nginx", true)},
			Config{}, []string{"by-name", "legacy"}, []string{"missing"}},
		{"watch without class", []*networkingv1.IngressClass{ourClass("rudder", false)},
			Config{WatchWithoutClass: true}, []string{"by-name", "classless", "legacy"}, []string{"missing", "other"}},
		{"no classes", nil, Config{WatchWithoutClass: true}, []string{"classless"}, []string{"by-name", "missing", "other"}},
		{"other controller name", []*networkingv1.IngressClass{ourClass("rudder", true)},
			Config{Controller: "example.com/other"}, nil, []string{"missing", "other"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := Build(tc.cfg, withServices(Input{Classes: tc.classes, Ingresses: all}))
			var got []string
			for _, n := range res.Served {
				got = append(got, n.Name)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("served (-want +got):\n%s", diff)
			}
			var unowned []string
			for _, n := range res.Unowned {
				unowned = append(unowned, n.Name)
			}
			if diff := cmp.Diff(tc.unowned, unowned); diff != "" {
				t.Errorf("unowned (-want +got):\n%s", diff)
			}
			if (len(tc.want) > 0) != (res.Table.Match("x.com", "/") != nil) {
				t.Errorf("table does not agree with Served")
			}
		})
	}
}

func TestDefaultBackends(t *testing.T) {
	in := withServices(Input{Classes: []*networkingv1.IngressClass{ourClass("rudder", false)}, Ingresses: []*networkingv1.Ingress{
		withDefault(ing("ns", "foo", 1, rule("foo.com", path(prefix, "/app", "app", 80))), "foo-default", 80),
		withDefault(ing("ns", "wild", 2, rule("*.foo.com", path(prefix, "/app", "app", 80))), "wild-default", 80),
		withDefault(ing("ns", "catchall", 3), "catchall", 80),
		withDefault(ing("ns", "catchall-newer", 4), "catchall-newer", 80),
		ing("ns", "bar", 5, rule("bar.com", path(prefix, "/app", "app", 80))),
	}})
	res := Build(Config{DefaultBackend: "ns/global:80"}, in)
	for _, tc := range []struct{ host, path, want string }{
		{"foo.com", "/app", "app"},
		{"foo.com", "/other", "foo-default"},
		{"a.foo.com", "/other", "wild-default"},
		{"bar.com", "/other", "catchall"},
		{"unknown.org", "/", "catchall"},
	} {
		if got := svcOf(res.Table, tc.host, tc.path); got != tc.want {
			t.Errorf("Match(%q, %q) = %q, want %q", tc.host, tc.path, got, tc.want)
		}
	}
	if r := res.Table.Match("foo.com", "/x"); r.PathType != route.Default || r.Name != "foo" {
		t.Errorf("default route = %+v", r)
	}
	wantConflict := Event{Namespace: "ns", Name: "catchall-newer", Type: Warning, Reason: ReasonConflict,
		Message: `default backend of host "" is already served by the older ingress ns/catchall; this one is ignored`}
	if diff := cmp.Diff([]Event{wantConflict}, res.Events); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}

	// Without Ingress default backends: the global one, then 404.
	in.Ingresses = in.Ingresses[4:]
	in.Services = append(in.Services, service("ns", "global", 80))
	res = Build(Config{DefaultBackend: "ns/global:http"}, in)
	r := res.Table.Match("nothing.org", "/")
	if r == nil || r.Backend == nil || r.Backend.Key != "ns/global:http" || r.Name != "" || r.PathType != route.Default {
		t.Errorf("global default = %+v", r)
	}
	if r := Build(Config{}, in).Table.Match("nothing.org", "/"); r != nil {
		t.Errorf("want 404, got %+v", r)
	}
	res = Build(Config{DefaultBackend: "global:80"}, in)
	if len(res.Events) != 1 || res.Events[0].Reason != ReasonInvalidDefaultBackend || res.Events[0].Name != "" {
		t.Errorf("events = %v", res.Events)
	}
}

func TestParseServiceRef(t *testing.T) {
	for _, tc := range []struct {
		in            string
		ns, svc, port string
		ok            bool
	}{
		{"ns/svc:80", "ns", "svc", "80", true},
		{"ns/svc:http", "ns", "svc", "http", true},
		{"svc:80", "", "", "", false},
		{"ns/svc", "", "", "", false},
		{"ns/svc:0", "", "", "", false},
		{"ns/svc:70000", "", "", "", false},
		{"/svc:80", "", "", "", false},
		{"ns/a/b:80", "", "", "", false},
	} {
		ns, svc, port, err := ParseServiceRef(tc.in)
		if (err == nil) != tc.ok || ns != tc.ns || svc != tc.svc || port != tc.port {
			t.Errorf("ParseServiceRef(%q) = %q %q %q %v", tc.in, ns, svc, port, err)
		}
	}
}

func TestConflictsDeterministic(t *testing.T) {
	mk := func() []*networkingv1.Ingress {
		return []*networkingv1.Ingress{
			ing("b", "old", 1, rule("foo.com", path(prefix, "/", "b-old", 80), path(exact, "/x", "b-old", 80), path(prefix, "/p", "b-old", 80))),
			ing("a", "same-time", 2, rule("foo.com", path(prefix, "/", "a-same", 80))),
			ing("c", "same-time", 2, rule("foo.com", path(prefix, "/", "c-same", 80))),
			ing("a", "new", 3, rule("foo.com", path(exact, "/x", "a-new", 80), path(prefix, "/x", "a-new", 80))),
			ing("a", "newest", 4, rule("FOO.com", path(impl, "/", "a-newest", 80))),
			// The same Prefix rule as /p: trailing slashes do not count.
			ing("a", "slash", 5, rule("foo.com", path(prefix, "/p/", "a-slash", 80))),
		}
	}
	var first *Result
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20; i++ {
		ings := mk()
		rng.Shuffle(len(ings), func(i, j int) { ings[i], ings[j] = ings[j], ings[i] })
		res := Build(Config{}, withServices(Input{Classes: []*networkingv1.IngressClass{ourClass("rudder", false)}, Ingresses: ings}))
		if first == nil {
			first = res
			continue
		}
		if diff := cmp.Diff(first.Events, res.Events); diff != "" {
			t.Fatalf("events differ with input order:\n%s", diff)
		}
		if diff := cmp.Diff(first.Table.Dump(), res.Table.Dump()); diff != "" {
			t.Fatalf("table differs with input order:\n%s", diff)
		}
	}
	for _, tc := range []struct{ path, want string }{{"/", "b-old"}, {"/x", "b-old"}, {"/x/y", "a-new"}, {"/p/q", "b-old"}, {"/p", "b-old"}} {
		if got := svcOf(first.Table, "foo.com", tc.path); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.path, got, tc.want)
		}
	}
	var losers []string
	for _, e := range first.Events {
		if e.Reason != ReasonConflict || e.Type != Warning || !strings.Contains(e.Message, "b/old") {
			t.Errorf("unexpected event %+v", e)
		}
		losers = append(losers, e.Namespace+"/"+e.Name)
	}
	want := []string{"a/new", "a/newest", "a/same-time", "a/slash", "c/same-time"}
	if diff := cmp.Diff(want, losers); diff != "" {
		t.Errorf("losers (-want +got):\n%s", diff)
	}
}

func TestEndpoints(t *testing.T) {
	tru, fal := ptr(true), ptr(false)
	svc := service("ns", "web", 80)
	svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{Name: "metrics", Port: 9090, Protocol: corev1.ProtocolTCP})
	in := Input{
		Classes:  []*networkingv1.IngressClass{ourClass("rudder", false)},
		Services: []*corev1.Service{svc},
		Ingresses: []*networkingv1.Ingress{ing("ns", "a", 0,
			rule("num.com", path(prefix, "/", "web", 80)),
			rule("name.com", path(prefix, "/", "web", 0)),
			rule("metrics.com", path(prefix, "/", "web", 9090)),
		)},
		EndpointSlices: []*discoveryv1.EndpointSlice{
			slice("ns", "web", "web-1", "http", 8080,
				ep{addr: "10.0.0.2"},                                             // nil ready: ready
				ep{addr: "10.0.0.1", ready: tru},                                 // ready
				ep{addr: "10.0.0.3", ready: fal},                                 // not ready
				ep{addr: "10.0.0.4", ready: fal, serving: tru, terminating: tru}, // serving but terminating
				ep{addr: "10.0.0.5", ready: tru, terminating: tru},               // terminating
				ep{addr: "10.0.0.1", ready: tru},                                 // duplicate
			),
			slice("ns", "web", "web-2", "http", 8080, ep{addr: "10.0.0.1"}, ep{addr: "fd00::1"}), // v6 in a v4 slice: skipped
			slice("ns", "web", "web-v6", "http", 8080, ep{addr: "fd00::2", ready: tru}),
			slice("ns", "web", "web-metrics", "metrics", 9100, ep{addr: "10.0.0.9"}),
			slice("ns", "other", "other-1", "http", 8080, ep{addr: "10.9.9.9"}),
			slice("other-ns", "web", "web-1", "http", 8080, ep{addr: "10.8.8.8"}),
		},
	}
	res := Build(Config{}, in)
	want := []netip.AddrPort{
		netip.MustParseAddrPort("10.0.0.1:8080"), netip.MustParseAddrPort("10.0.0.2:8080"),
		netip.MustParseAddrPort("[fd00::2]:8080"),
	}
	num, name := res.Table.Match("num.com", "/"), res.Table.Match("name.com", "/")
	if diff := cmp.Diff(want, num.Backend.Endpoints, cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); diff != "" {
		t.Errorf("endpoints (-want +got):\n%s", diff)
	}
	if num.Backend.Key != "ns/web:80" || name.Backend.Key != "ns/web:http" || num.Backend.Port != "80" {
		t.Errorf("keys %q %q", num.Backend.Key, name.Backend.Key)
	}
	if !reflect.DeepEqual(num.Backend.Endpoints, name.Backend.Endpoints) {
		t.Errorf("named port endpoints %v", name.Backend.Endpoints)
	}
	m := res.Table.Match("metrics.com", "/")
	if len(m.Backend.Endpoints) != 1 || m.Backend.Endpoints[0].String() != "10.0.0.9:9100" {
		t.Errorf("metrics endpoints %v", m.Backend.Endpoints)
	}

	// With no ready endpoint left, the serving terminating ones drain.
	in.EndpointSlices = []*discoveryv1.EndpointSlice{slice("ns", "web", "web-1", "http", 8080,
		ep{addr: "10.0.0.3", ready: fal},
		ep{addr: "10.0.0.4", ready: fal, serving: tru, terminating: tru},
		ep{addr: "10.0.0.6", ready: fal, serving: fal, terminating: tru},
	)}
	res = Build(Config{}, in)
	if got := res.Table.Match("num.com", "/").Backend.Endpoints; len(got) != 1 || got[0].String() != "10.0.0.4:8080" {
		t.Errorf("fallback to serving terminating endpoints: %v, want [10.0.0.4:8080]", got)
	}
	if len(res.Events) != 0 {
		t.Errorf("events %v", res.Events)
	}
}

func TestBackendsShared(t *testing.T) {
	res := Build(Config{}, withServices(Input{Classes: []*networkingv1.IngressClass{ourClass("rudder", false)},
		Ingresses: []*networkingv1.Ingress{
			ing("ns", "a", 0, rule("a.com", path(prefix, "/", "web", 80), path(exact, "/x", "web", 80))),
			ing("ns", "b", 1, rule("b.com", path(prefix, "/", "web", 80))),
		}}))
	a, x, b := res.Table.Match("a.com", "/"), res.Table.Match("a.com", "/x"), res.Table.Match("b.com", "/")
	if a.Backend != x.Backend || a.Backend != b.Backend {
		t.Error("one Service port should give one *route.Backend")
	}
}

func TestExternalName(t *testing.T) {
	ext := &corev1.Service{}
	ext.Namespace, ext.Name = "ns", "ext"
	ext.Spec.Type = corev1.ServiceTypeExternalName
	ext.Spec.ExternalName = "example.org"
	ext.Spec.Ports = []corev1.ServicePort{{Name: "http", Port: 8081}}
	in := Input{Classes: []*networkingv1.IngressClass{ourClass("rudder", false)}, Services: []*corev1.Service{ext},
		Ingresses: []*networkingv1.Ingress{ing("ns", "a", 0,
			rule("num.com", path(prefix, "/", "ext", 443)),
			rule("name.com", path(prefix, "/", "ext", 0)),
		)}}
	res := Build(Config{}, in)
	for host, port := range map[string]uint16{"num.com": 443, "name.com": 8081} {
		b := res.Table.Match(host, "/").Backend
		if b == nil || b.ExternalName != "example.org" || b.ExternalPort != port || len(b.Endpoints) != 0 {
			t.Errorf("%s: backend %+v", host, b)
		}
	}
}

func TestBackendProblems(t *testing.T) {
	res := Build(Config{}, Input{Classes: []*networkingv1.IngressClass{ourClass("rudder", false)},
		Services: []*corev1.Service{service("ns", "web", 80)},
		Ingresses: []*networkingv1.Ingress{
			ing("ns", "a", 0,
				rule("missing.com", path(prefix, "/", "nope", 80)),
				rule("port.com", path(prefix, "/", "web", 81)),
				rule("res.com", networkingv1.HTTPIngressPath{Path: "/", PathType: ptr(prefix),
					Backend: networkingv1.IngressBackend{Resource: &corev1.TypedLocalObjectReference{Kind: "Bucket", Name: "b"}}}),
			),
			ing("ns", "b", 0, rule("also-missing.com", path(prefix, "/", "nope", 80))),
		}})
	for _, h := range []string{"missing.com", "port.com", "res.com", "also-missing.com"} {
		r := res.Table.Match(h, "/")
		if r == nil || r.Backend != nil {
			t.Errorf("%s: want a route with no backend (503), got %+v", h, r)
		}
	}
	want := []Event{
		{"ns", "a", Warning, ReasonPortNotFound, "service ns/web has no port 81"},
		{"ns", "a", Warning, ReasonServiceNotFound, "service ns/nope not found"},
		{"ns", "a", Warning, ReasonUnsupportedBackend, "resource backend Bucket b is not supported"},
		{"ns", "b", Warning, ReasonServiceNotFound, "service ns/nope not found"},
	}
	if diff := cmp.Diff(want, res.Events); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestInvalidPathsAndHosts(t *testing.T) {
	res := Build(Config{}, withServices(Input{Classes: []*networkingv1.IngressClass{ourClass("rudder", false)},
		Ingresses: []*networkingv1.Ingress{
			withAnnotations(ing("ns", "re", 0, rule("re.com", path(impl, "/(unclosed", "svc", 80), path(impl, "/ok", "svc", 80))),
				"rudder.io/use-regex", "true"),
			ing("ns", "p", 0, rule("p.com", path(prefix, "relative", "svc", 80)), rule("foo.*.com", path(prefix, "/", "svc", 80))),
		}}))
	var reasons []string
	for _, e := range res.Events {
		reasons = append(reasons, e.Name+":"+e.Reason)
	}
	want := []string{"p:InvalidHost", "p:InvalidPath", "re:InvalidPath"}
	if diff := cmp.Diff(want, reasons); diff != "" {
		t.Errorf("events (-want +got):\n%s\n%v", diff, res.Events)
	}
	if svcOf(res.Table, "re.com", "/ok") != "svc" {
		t.Error("the valid regex path is lost")
	}
}

func TestAnnotationPolicy(t *testing.T) {
	crt := tlsSecret(t, "ns", "tls", 1, "secure.com")
	in := withServices(Input{Classes: []*networkingv1.IngressClass{ourClass("rudder", false)}, Secrets: []*corev1.Secret{crt},
		Ingresses: []*networkingv1.Ingress{
			withTLS(withAnnotations(ing("ns", "secure", 0, rule("secure.com", path(prefix, "/app", "svc", 80))),
				"nginx.ingress.kubernetes.io/affinity", "cookie",
				"nginx.ingress.kubernetes.io/proxy-body-size", "8m",
				"nginx.ingress.kubernetes.io/configuration-snippet", "x",
				"rudder.io/limit-rps", "many",
			), "tls"),
			withAnnotations(ing("ns", "plain", 1, rule("plain.com", path(prefix, "/", "svc", 80))),
				"rudder.io/ssl-redirect", "true"),
			withAnnotations(ing("ns", "forced", 2, rule("forced.com", path(prefix, "/", "svc", 80))),
				"rudder.io/force-ssl-redirect", "true"),
			withTLS(withAnnotations(ing("ns", "optout", 3, rule("optout.com", path(prefix, "/", "svc", 80))),
				"rudder.io/ssl-redirect", "false"), "tls", "optout.com"),
		}})
	res := Build(Config{}, in)
	sec := res.Table.Match("secure.com", "/app/x").Policy
	if !sec.SSLRedirect || sec.BodyLimit != 8<<20 || sec.Affinity == nil || sec.Affinity.Path != "/app" ||
		sec.Affinity.CookieName != "INGRESSCOOKIE" || sec.ReadTimeout != 60*time.Second {
		t.Errorf("secure policy %+v %+v", sec, sec.Affinity)
	}
	for host, want := range map[string]bool{"plain.com": false, "forced.com": true, "optout.com": false} {
		if got := res.Table.Match(host, "/").Policy.SSLRedirect; got != want {
			t.Errorf("%s: SSLRedirect = %v, want %v", host, got, want)
		}
	}
	want := []Event{
		{"ns", "secure", Warning, ReasonInvalidAnnotation,
			`annotation rudder.io/limit-rps: invalid value "many": want a non-negative integer; using the default`},
		{"ns", "secure", Warning, ReasonUnknownAnnotation,
			"annotation nginx.ingress.kubernetes.io/configuration-snippet: unknown annotation (not supported by rudder ingress; ignored)"},
	}
	if diff := cmp.Diff(want, res.Events); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestTLS(t *testing.T) {
	exactSecret := tlsSecret(t, "ns", "exact", 1, "foo.com")
	wildSecret := tlsSecret(t, "ns", "wild", 1, "*.foo.com")
	bad := tlsSecret(t, "ns", "bad", 1, "bad.com")
	bad.Data[corev1.TLSPrivateKeyKey] = []byte("garbage")
	opaque := tlsSecret(t, "ns", "opaque", 1, "opaque.com")
	opaque.Type = corev1.SecretTypeOpaque
	in := withServices(Input{Classes: []*networkingv1.IngressClass{ourClass("rudder", false)},
		Secrets: []*corev1.Secret{exactSecret, wildSecret, bad, opaque},
		Ingresses: []*networkingv1.Ingress{
			withTLS(withTLS(ing("ns", "a", 0, rule("foo.com", path(prefix, "/", "svc", 80)), rule("*.foo.com", path(prefix, "/", "svc", 80))),
				"exact", "foo.com"), "wild", "*.foo.com"),
			withTLS(ing("ns", "b", 1, rule("missing.com", path(prefix, "/", "svc", 80))), "nope", "missing.com"),
			withTLS(ing("ns", "c", 2, rule("bad.com", path(prefix, "/", "svc", 80))), "bad"),
			withTLS(ing("ns", "d", 3, rule("opaque.com", path(prefix, "/", "svc", 80))), "opaque"),
			// A TLS entry without hosts covers the Ingress's rule hosts.
			withTLS(ing("ns", "f", 5, rule("all.com", path(prefix, "/", "svc", 80)), rule("all2.com")), "exact"),
			// A newer Ingress cannot take foo.com's certificate.
			withTLS(ing("ns", "e", 4, rule("foo.com", path(prefix, "/e", "svc", 80))), "wild", "foo.com"),
		}})
	cache := NewCertCache()
	res := Build(Config{Certs: cache}, in)
	cn := func(sni string) string {
		c := res.Table.Certificate(sni)
		if c == nil {
			return ""
		}
		return c.Leaf.Subject.CommonName
	}
	for sni, want := range map[string]string{
		"foo.com": "foo.com", "FOO.COM": "foo.com", "bar.foo.com": "*.foo.com", "a.b.foo.com": "",
		"missing.com": "", "bad.com": "", "all.com": "foo.com", "all2.com": "foo.com", "opaque.com": "", "other.org": "",
	} {
		if got := cn(sni); got != want {
			t.Errorf("Certificate(%q) = %q, want %q", sni, got, want)
		}
	}
	var reasons []string
	for _, e := range res.Events {
		reasons = append(reasons, e.Name+":"+e.Reason)
	}
	if diff := cmp.Diff([]string{"b:SecretNotFound", "c:InvalidCertificate", "d:InvalidCertificate", "e:Conflict"}, reasons); diff != "" {
		t.Errorf("events (-want +got):\n%s\n%v", diff, res.Events)
	}
	if !res.Table.Match("bar.foo.com", "/").Policy.SSLRedirect || res.Table.Match("missing.com", "/").Policy.SSLRedirect {
		t.Error("SSLRedirect should follow the presence of a certificate")
	}

	// The cache: same resourceVersion, same certificate; a new one re-parses.
	before := res.Table.Certificate("foo.com")
	if again := Build(Config{Certs: cache}, in).Table.Certificate("foo.com"); again != before {
		t.Error("unchanged secret parsed again")
	}
	changed := tlsSecret(t, "ns", "exact", 2, "foo.com")
	in.Secrets = []*corev1.Secret{changed}
	after := Build(Config{Certs: cache}, in).Table.Certificate("foo.com")
	if after == nil || after == before {
		t.Error("changed secret not re-parsed")
	}
	if cache.Len() != 1 {
		t.Errorf("cache keeps %d secrets, want 1", cache.Len())
	}
}

func TestDefaultCertificate(t *testing.T) {
	def := tlsSecret(t, "ingress", "default", 1, "default.example")
	site := tlsSecret(t, "ns", "site", 1, "foo.com")
	bad := tlsSecret(t, "ingress", "bad", 1, "bad.example")
	bad.Data[corev1.TLSCertKey] = []byte("garbage")
	in := withServices(Input{Classes: []*networkingv1.IngressClass{ourClass("rudder", false)},
		Secrets: []*corev1.Secret{def, site, bad},
		Ingresses: []*networkingv1.Ingress{
			withTLS(ing("ns", "a", 0, rule("foo.com", path(prefix, "/", "svc", 80))), "site", "foo.com"),
		}})
	for _, tc := range []struct {
		ref    string
		want   string // the default certificate's CN, "" for none
		reason string // the configuration finding, "" for none
	}{
		{"", "", ""},
		{"ingress/default", "default.example", ""},
		{"ingress/missing", "", ReasonInvalidDefaultCert},
		{"ingress/bad", "", ReasonInvalidDefaultCert},
		{"no-namespace", "", ReasonInvalidDefaultCert},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			res := Build(Config{DefaultCertificate: tc.ref, Certs: NewCertCache()}, in)
			got := ""
			if c := res.Table.DefaultCertificate(); c != nil {
				got = c.Leaf.Subject.CommonName
			}
			if got != tc.want {
				t.Errorf("default certificate %q, want %q", got, tc.want)
			}
			// An Ingress's own certificate still wins its host.
			if c := res.Table.Certificate("foo.com"); c == nil || c.Leaf.Subject.CommonName != "foo.com" {
				t.Errorf("foo.com's certificate: %v", c)
			}
			reason := ""
			for _, e := range res.Events {
				if e.Namespace == "" && e.Name == "" {
					reason = e.Reason
				}
			}
			if reason != tc.reason {
				t.Errorf("configuration finding %q, want %q (%v)", reason, tc.reason, res.Events)
			}
			if dumped := strings.Contains(res.Table.Dump(), "tls default "+tc.ref); dumped != (tc.want != "") {
				t.Errorf("dump shows the default certificate: %v\n%s", dumped, res.Table.Dump())
			}
		})
	}
}

func TestServedAndInputUntouched(t *testing.T) {
	in := withServices(Input{Classes: []*networkingv1.IngressClass{ourClass("rudder", false)},
		Ingresses: []*networkingv1.Ingress{
			withAnnotations(ing("z", "b", 0, rule("Foo.com.", path(impl, "", "svc", 80))), "rudder.io/affinity", "cookie"),
			ing("a", "c", 1, rule("bar.com", path(prefix, "/", "svc", 80))),
		}})
	var copies []*networkingv1.Ingress
	for _, i := range in.Ingresses {
		copies = append(copies, i.DeepCopy())
	}
	res := Build(Config{}, in)
	for i := range copies {
		if !reflect.DeepEqual(copies[i], in.Ingresses[i]) {
			t.Errorf("Build modified ingress %d", i)
		}
	}
	want := []types.NamespacedName{{Namespace: "a", Name: "c"}, {Namespace: "z", Name: "b"}}
	if diff := cmp.Diff(want, res.Served); diff != "" {
		t.Error(diff)
	}
	if svcOf(res.Table, "foo.com", "/anything") != "svc" {
		t.Error("empty ImplementationSpecific path should match everything")
	}
}
