package router

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

func TestDumpGolden(t *testing.T) {
	in := Input{
		Classes:  []*networkingv1.IngressClass{ourClass("rudder", true)},
		Services: []*corev1.Service{service("shop", "web", 80), service("shop", "api", 80), service("shop", "fallback", 80)},
		Secrets:  []*corev1.Secret{tlsSecret(t, "shop", "shop-tls", 1, "shop.example.com")},
		EndpointSlices: []*discoveryv1.EndpointSlice{
			slice("shop", "web", "web-abc", "http", 8080, ep{addr: "10.1.0.2"}, ep{addr: "10.1.1.3"}),
			slice("shop", "api", "api-abc", "http", 9000, ep{addr: "fd00::5"}),
		},
		Ingresses: []*networkingv1.Ingress{
			withTLS(withDefault(ing("shop", "main", 0,
				rule("shop.example.com", path(prefix, "/", "web", 80), path(exact, "/healthz", "web", 0), path(prefix, "/api", "api", 80)),
				rule("*.shop.example.com", path(prefix, "/", "web", 80)),
			), "fallback", 80), "shop-tls", "shop.example.com"),
			withAnnotations(ing("shop", "legacy", 1, rule("", path(impl, "/v[12]/", "api", 80), path(prefix, "/gone", "missing", 80))),
				"nginx.ingress.kubernetes.io/use-regex", "true"),
		},
	}
	in.Ingresses[1].Spec.IngressClassName = nil // the default class
	res := Build(Config{DefaultBackend: "shop/fallback:http"}, in)
	want := `host shop.example.com
  Exact /healthz -> shop/web:http [10.1.0.2:8080 10.1.1.3:8080] (shop/main) ssl-redirect
  Prefix /api -> shop/api:80 [[fd00::5]:9000] (shop/main) ssl-redirect
  Prefix / -> shop/web:80 [10.1.0.2:8080 10.1.1.3:8080] (shop/main) ssl-redirect
  Default -> shop/fallback:80 [] (shop/main) ssl-redirect
host *.shop.example.com
  Prefix / -> shop/web:80 [10.1.0.2:8080 10.1.1.3:8080] (shop/main)
  Default -> shop/fallback:80 [] (shop/main)
host *
  Regex /v[12]/ -> shop/api:80 [[fd00::5]:9000] (shop/legacy)
  Prefix /gone -> none (shop/legacy)
  Default -> shop/fallback:http [] (global)
tls shop.example.com shop/shop-tls
`
	if diff := cmp.Diff(want, res.Table.Dump()); diff != "" {
		t.Errorf("dump (-want +got):\n%s", diff)
	}
	if len(res.Events) != 1 || res.Events[0].Reason != ReasonServiceNotFound {
		t.Errorf("events %v", res.Events)
	}
}
