package router

import (
	"fmt"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	"rudder/ingress/route"
)

type rp struct {
	pt networkingv1.PathType
	p  string
}

// TestKubernetesPathTable is the path-matching examples table of
// https://kubernetes.io/docs/concepts/services-networking/ingress/#examples.
// Each rule path routes to its own service; "fallback" is the default
// backend.
func TestKubernetesPathTable(t *testing.T) {
	for _, tc := range []struct {
		rules []rp
		req   string
		want  string // the rule path chosen ("" = default backend)
	}{
		{[]rp{{prefix, "/"}}, "/", "/"},
		{[]rp{{prefix, "/"}}, "/anything/at/all", "/"},
		{[]rp{{exact, "/foo"}}, "/foo", "/foo"},
		{[]rp{{exact, "/foo"}}, "/bar", ""},
		{[]rp{{exact, "/foo"}}, "/foo/", ""},
		{[]rp{{exact, "/foo/"}}, "/foo", ""},
		{[]rp{{prefix, "/foo"}}, "/foo", "/foo"},
		{[]rp{{prefix, "/foo"}}, "/foo/", "/foo"},
		{[]rp{{prefix, "/foo/"}}, "/foo", "/foo/"},
		{[]rp{{prefix, "/foo/"}}, "/foo/", "/foo/"},
		{[]rp{{prefix, "/aaa/bb"}}, "/aaa/bbb", ""},
		{[]rp{{prefix, "/aaa/bbb"}}, "/aaa/bbb", "/aaa/bbb"},
		{[]rp{{prefix, "/aaa/bbb/"}}, "/aaa/bbb", "/aaa/bbb/"},
		{[]rp{{prefix, "/aaa/bbb"}}, "/aaa/bbb/", "/aaa/bbb"},
		{[]rp{{prefix, "/aaa/bbb"}}, "/aaa/bbb/ccc", "/aaa/bbb"},
		{[]rp{{prefix, "/aaa/bbb"}}, "/aaa/bbbxyz", ""},
		{[]rp{{prefix, "/"}, {prefix, "/aaa"}}, "/aaa/ccc", "/aaa"},
		{[]rp{{prefix, "/"}, {prefix, "/aaa"}, {prefix, "/aaa/bbb"}}, "/aaa/bbb", "/aaa/bbb"},
		{[]rp{{prefix, "/"}, {prefix, "/aaa"}, {prefix, "/aaa/bbb"}}, "/ccc", "/"},
		{[]rp{{prefix, "/aaa"}}, "/ccc", ""},
		{[]rp{{prefix, "/foo"}, {exact, "/foo"}}, "/foo", "exact:/foo"},
		{[]rp{{exact, "/foo"}, {prefix, "/foo"}}, "/foo", "exact:/foo"},
		// ImplementationSpecific is Prefix without use-regex.
		{[]rp{{impl, "/foo"}}, "/foo/bar", "/foo"},
		{[]rp{{impl, "/foo"}}, "/foobar", ""},
	} {
		t.Run(fmt.Sprintf("%v_%s", tc.rules, tc.req), func(t *testing.T) {
			var paths []networkingv1.HTTPIngressPath
			for _, r := range tc.rules {
				paths = append(paths, path(r.pt, r.p, "svc", 80))
			}
			in := Input{Ingresses: []*networkingv1.Ingress{ing("ns", "a", 0, rule("foo.com", paths...))},
				Classes: []*networkingv1.IngressClass{ourClass("rudder", false)}}
			res := Build(Config{DefaultBackend: "ns/fallback:80"}, in)
			r := res.Table.Match("foo.com", tc.req)
			if r == nil {
				t.Fatal("no route, want at least the default backend")
			}
			got := r.Path
			if r.PathType == route.Exact && tc.want != "" && tc.want[0] == 'e' {
				got = "exact:" + got
			}
			if r.PathType == route.Default {
				got = ""
			}
			if got != tc.want {
				t.Errorf("Match(%q) = %q (%s), want %q", tc.req, got, r.PathType, tc.want)
			}
		})
	}
}

func TestPrecedence(t *testing.T) {
	a := withAnnotations(ing("ns", "regex", 0, rule("foo.com",
		path(impl, "/api/v[0-9]+", "regex-long", 80),
		path(impl, "/app", "regex-app", 80),
	)), "rudder.io/use-regex", "true")
	b := ing("ns", "plain", 1, rule("foo.com",
		path(prefix, "/api", "prefix-api", 80),
		path(prefix, "/app", "prefix-app", 80),
		path(exact, "/api/v1/x", "exact", 80),
	))
	res := Build(Config{}, withServices(Input{Classes: []*networkingv1.IngressClass{ourClass("rudder", false)},
		Ingresses: []*networkingv1.Ingress{b, a}}))
	for _, tc := range []struct{ path, want string }{
		{"/api/v1/x", "exact"},      // Exact first
		{"/api/v2/y", "regex-long"}, // longest path string
		{"/API/V2", "regex-long"},   // regex is case-insensitive
		{"/api/x", "prefix-api"},    // regex does not match
		{"/app/z", "prefix-app"},    // same length: Prefix before Regex
		{"/apples", "regex-app"},    // regex is a string prefix
		{"/other", ""},
	} {
		if got := svcOf(res.Table, "foo.com", tc.path); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.path, got, tc.want)
		}
	}
	if len(res.Events) != 0 {
		t.Errorf("events: %v", res.Events)
	}
}

func TestSameLengthOldestWins(t *testing.T) {
	// Two regexes of the same length from two Ingresses both match: the
	// older Ingress wins whatever the input order.
	newer := withAnnotations(ing("ns", "newer", 5, rule("foo.com", path(impl, "/a.", "newer", 80))), "rudder.io/use-regex", "true")
	older := withAnnotations(ing("ns", "older", 1, rule("foo.com", path(impl, "/.b", "older", 80))), "rudder.io/use-regex", "true")
	for _, order := range [][]*networkingv1.Ingress{{newer, older}, {older, newer}} {
		res := Build(Config{}, withServices(Input{Classes: []*networkingv1.IngressClass{ourClass("rudder", false)}, Ingresses: order}))
		if got := svcOf(res.Table, "foo.com", "/ab"); got != "older" {
			t.Errorf("got %q, want older", got)
		}
	}
}

func TestHosts(t *testing.T) {
	in := Input{Classes: []*networkingv1.IngressClass{ourClass("rudder", false)}, Ingresses: []*networkingv1.Ingress{
		ing("ns", "a", 0,
			rule("foo.com", path(prefix, "/exact-host", "exact-host", 80)),
			rule("*.foo.com", path(prefix, "/", "wild", 80)),
			rule("", path(prefix, "/any", "any", 80)),
		),
	}}
	res := Build(Config{}, withServices(in))
	for _, tc := range []struct{ host, path, want string }{
		{"foo.com", "/exact-host/x", "exact-host"},
		{"foo.com", "/other", ""},       // wildcard does not cover foo.com
		{"foo.com", "/any", "any"},      // falls through to host-less rules
		{"bar.foo.com", "/x", "wild"},   // one label
		{"bar.foo.com", "/any", "wild"}, // wildcard set matched first
		{"baz.bar.foo.com", "/x", ""},   // two labels: no
		{"baz.bar.foo.com", "/any/1", "any"},
		{"FOO.com", "/exact-host", "exact-host"},
		{"foo.com:8443", "/exact-host", "exact-host"},
		{"foo.com.", "/exact-host", "exact-host"},
		{"Bar.Foo.Com:80", "/", "wild"},
		{".foo.com", "/x", ""},
		{"other.org", "/any", "any"},
		{"[::1]:80", "/any", "any"},
		{"::1", "/any", "any"},
		{"", "/any", "any"},
	} {
		if got := svcOf(res.Table, tc.host, tc.path); got != tc.want {
			t.Errorf("Match(%q, %q) = %q, want %q", tc.host, tc.path, got, tc.want)
		}
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	res := Build(Config{}, Input{Classes: []*networkingv1.IngressClass{ourClass("rudder", false)},
		Ingresses: []*networkingv1.Ingress{ing("ns", "a", 0,
			rule("foo.com", path(prefix, "/a", "a", 80), path(exact, "/b", "b", 80)),
			rule("*.foo.com", path(prefix, "/c", "c", 80)))}})
	allocs := testing.AllocsPerRun(100, func() {
		res.Table.Match("foo.com", "/a/b/c")
		res.Table.Match("x.foo.com", "/c")
		res.Table.Match("foo.com:80", "/none")
	})
	if allocs != 0 {
		t.Errorf("Match allocates %.1f times", allocs)
	}
}

func TestRewriteCaptureGroups(t *testing.T) {
	res := Build(Config{}, Input{Classes: []*networkingv1.IngressClass{ourClass("rudder", false)},
		Ingresses: []*networkingv1.Ingress{
			withAnnotations(ing("ns", "rw", 0, rule("foo.com", path(impl, "/something(/|$)(.*)", "svc", 80))),
				"nginx.ingress.kubernetes.io/rewrite-target", "/$2"),
			withAnnotations(ing("ns", "fixed", 1, rule("bar.com", path(prefix, "/old", "svc", 80))),
				"rudder.io/rewrite-target", "/new"),
		}})
	for _, tc := range []struct{ host, path, want string }{
		{"foo.com", "/something", "/"},
		{"foo.com", "/something/", "/"},
		{"foo.com", "/something/new", "/new"},
		{"foo.com", "/SOMETHING/a/b", "/a/b"},
		{"bar.com", "/old/x", "/new"}, // Prefix path: the target as is
	} {
		r := res.Table.Match(tc.host, tc.path)
		if r == nil {
			t.Fatalf("%s%s: no route", tc.host, tc.path)
		}
		if got := r.Rewrite(tc.path); got != tc.want {
			t.Errorf("%s%s rewrites to %q, want %q", tc.host, tc.path, got, tc.want)
		}
	}
	if r := res.Table.Match("foo.com", "/somethingelse"); r != nil {
		t.Errorf("/somethingelse matched %v", r.Path)
	}
}

// BenchmarkMatch is 1,000 hosts × 10 paths, plus wildcard and miss.
func BenchmarkMatch(b *testing.B) {
	var ings []*networkingv1.Ingress
	for h := 0; h < 1000; h++ {
		var paths []networkingv1.HTTPIngressPath
		for p := 0; p < 10; p++ {
			pt := prefix
			if p%3 == 0 {
				pt = exact
			}
			paths = append(paths, path(pt, fmt.Sprintf("/svc%d/api", p), fmt.Sprintf("svc%d", p), 80))
		}
		ings = append(ings, ing("ns", fmt.Sprintf("i%d", h), h, rule(fmt.Sprintf("host%d.example.com", h), paths...)))
	}
	res := Build(Config{}, Input{Classes: []*networkingv1.IngressClass{ourClass("rudder", false)}, Ingresses: ings})
	reqs := []struct{ host, path string }{
		{"host17.example.com", "/svc0/api"},
		{"host500.example.com", "/svc8/api/v1/items"},
		{"host999.example.com", "/svc1/api/"},
		{"host3.example.com", "/nothing"},
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := reqs[i%len(reqs)]
		res.Table.Match(r.host, r.path)
	}
}
