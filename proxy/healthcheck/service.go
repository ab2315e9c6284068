package healthcheck

import (
	"net/http"
	"strconv"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/types"
)

// serviceHandler answers one service's health checks.
type serviceHandler struct {
	name      types.NamespacedName
	endpoints atomic.Int64 // local ready endpoints
	proxy     *Healthz     // nil: not consulted
}

type serviceBody struct {
	Service struct {
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	} `json:"service"`
	LocalEndpoints      int  `json:"localEndpoints"`
	ServiceProxyHealthy bool `json:"serviceProxyHealthy"`
}

// ServeHTTP answers 200 when this node has local endpoints and the proxy
// is healthy, else 503, with the body kube-proxy sends.
func (s *serviceHandler) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	var b serviceBody
	b.Service.Namespace, b.Service.Name = s.name.Namespace, s.name.Name
	b.LocalEndpoints = int(s.endpoints.Load())
	b.ServiceProxyHealthy = true
	if s.proxy != nil {
		b.ServiceProxyHealthy, _ = s.proxy.Healthy()
	}
	code := http.StatusOK
	if b.LocalEndpoints == 0 || !b.ServiceProxyHealthy {
		code = http.StatusServiceUnavailable
	}
	w.Header().Set("X-Load-Balancing-Endpoint-Weight", strconv.Itoa(b.LocalEndpoints))
	writeJSON(w, code, b)
}
