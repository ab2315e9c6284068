// Package apiserver serves the Kubernetes REST API over rudder's storage:
// CRUD, watch, patch, discovery, tables and OpenAPI, close enough to
// upstream that the real kubectl and client-go work against it.
package apiserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/version"

	"rudder/controlplane/apiserver/authn"
	"rudder/controlplane/apiserver/objectstore"
	"rudder/controlplane/catalog"
	"rudder/controlplane/registry"
	"rudder/controlplane/storage"
)

// MaxRequestBytes is the largest request body accepted (413 above), as
// upstream's 3 MiB limit.
const MaxRequestBytes = 3 << 20

// Config configures the API server.
type Config struct {
	Store         storage.Store
	Authenticator *authn.Authenticator
	// ServiceCIDR and NodePortBase/NodePortSize drive Service allocation.
	ServiceCIDR  *net.IPNet
	NodePortBase int
	NodePortSize int
	// AdvertiseAddress and Port are where the kubernetes Service points.
	AdvertiseAddress net.IP
	Port             int
	// Kubelet reaches kubelets for pods/log, exec and portforward.
	Kubelet KubeletDialer
	// Version is what /version reports.
	Version version.Info
	// WatchBookmarkInterval is how often watches that asked for bookmarks
	// get one (default 1m, tests shorten it).
	WatchBookmarkInterval time.Duration
	// GarbageCollector says a garbage collector runs and honours the
	// orphan and foregroundDeletion finalizers; without one the server
	// does the minimum itself (see ownerfinalizer.go).
	GarbageCollector bool
	// NamespaceController says the namespace controller empties
	// terminating namespaces; without it the server does (nsfinalizer.go).
	NamespaceController bool
	// ServiceAccounts, when set, serves service account tokens and
	// admits pods as upstream's ServiceAccount plugin (nil: neither).
	ServiceAccounts *ServiceAccountConfig
	Logger          *slog.Logger
	// Registerer and Gatherer: where the server's metrics go and what
	// /metrics serves (both nil: a registry of its own).
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
}

// Server is the API server's HTTP handler and the state behind it.
type Server struct {
	cfg       Config
	log       *slog.Logger
	scheme    *runtime.Scheme
	codecs    serializer.CodecFactory
	decoders  decoder
	protobuf  protobufCodec
	objects   *objectstore.Store
	resources map[string]catalog.Resource // "group/version/resource"
	// strategies holds each served kind's rules, resolved once: the
	// registry builds them per call.
	strategies map[schema.GroupKind]registry.Strategy
	services   serviceAllocator
	openapi    openAPI
	metrics    *metrics
	mux        *http.ServeMux
	// ctx bounds the server's background work (namespace deletion); set
	// by Bootstrap.
	ctx context.Context
}

// New builds the server. Call Bootstrap before serving.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("apiserver: no store")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.WatchBookmarkInterval == 0 {
		cfg.WatchBookmarkInterval = time.Minute
	}
	if cfg.Authenticator == nil {
		cfg.Authenticator = &authn.Authenticator{}
	}
	if cfg.ServiceAccounts != nil {
		sa := *cfg.ServiceAccounts
		cfg.ServiceAccounts = &sa
	}
	scheme := catalog.NewScheme()
	s := &Server{
		cfg:        cfg,
		log:        cfg.Logger,
		scheme:     scheme,
		codecs:     catalog.NewCodecs(scheme),
		objects:    objectstore.New(objectstore.Config{KV: cfg.Store, Scheme: scheme}),
		resources:  map[string]catalog.Resource{},
		strategies: map[schema.GroupKind]registry.Strategy{},
		metrics:    newMetrics(cfg.Registerer, cfg.Gatherer),
		ctx:        context.Background(),
	}
	s.decoders = newDecoder(scheme)
	s.protobuf = newProtobufCodec(scheme)
	for _, r := range catalog.Resources() {
		s.resources[r.Group+"/"+r.Version+"/"+r.Resource] = r
		s.strategies[r.GVK().GroupKind()] = registry.For(r.GVK().GroupKind())
	}
	if err := s.setupServiceAccounts(); err != nil {
		return nil, err
	}
	var err error
	if s.services, err = newServiceAllocator(cfg); err != nil {
		return nil, err
	}
	if s.openapi, err = newOpenAPI(scheme, cfg.Version.GitVersion); err != nil {
		return nil, err
	}
	s.mux = s.routes()
	return s, nil
}

func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /version", s.serveVersion)
	mux.HandleFunc("GET /api", s.serveCoreGroup)
	mux.HandleFunc("GET /apis", s.serveGroups)
	mux.HandleFunc("GET /openapi/v2", s.openapi.ServeV2)
	mux.HandleFunc("GET /openapi/v3", s.openapi.ServeV3)
	mux.HandleFunc("GET /openapi/v3/", s.openapi.ServeV3)
	mux.Handle("GET /metrics", s.metrics.handler())
	mux.HandleFunc("/", s.serveAPI)
	return mux
}

// Handler returns the full handler chain: panic recovery, metrics,
// authentication, body limit, then routing.
func (s *Server) Handler() http.Handler {
	var h http.Handler = s.mux
	h = s.authenticate(h)
	h = s.metrics.instrument(h)
	h = recoverPanics(s.log, h)
	return h
}

// unauthenticatedPaths are answered without credentials, as upstream's
// system:public-info-viewer allows.
func unauthenticatedPath(p string) bool {
	switch p {
	case "/healthz", "/livez", "/readyz", "/version":
		return true
	}
	return strings.HasPrefix(p, "/healthz/") || strings.HasPrefix(p, "/livez/") || strings.HasPrefix(p, "/readyz/")
}

func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if unauthenticatedPath(r.URL.Path) {
			if strings.HasSuffix(r.URL.Path, "z") || strings.Contains(r.URL.Path, "z/") {
				s.serveHealth(w, r)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		u, err := s.cfg.Authenticator.Authenticate(r)
		if err != nil {
			s.log.Debug("unauthenticated request", "path", r.URL.Path, "err", err)
			writeUnauthorized(w)
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			// An empty body stays http.NoBody so that proxied upgrades
			// (exec, portforward) are not rewritten as chunked.
			r.Body = http.MaxBytesReader(w, r.Body, MaxRequestBytes)
		}
		next.ServeHTTP(w, r.WithContext(authn.WithUser(r.Context(), u)))
	})
}

func writeUnauthorized(w http.ResponseWriter) {
	writeJSON(w, http.StatusUnauthorized, "application/json", map[string]any{
		"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{},
		"status": "Failure", "message": "Unauthorized", "reason": "Unauthorized", "code": 401,
	})
}

func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if _, err := s.cfg.Store.Revision(ctx); err != nil {
		http.Error(w, fmt.Sprintf("[-]etcd failed: %v\nhealthz check failed", err), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if r.URL.Query().Has("verbose") {
		_, _ = w.Write([]byte("[+]ping ok\n[+]etcd ok\nhealthz check passed\n"))
		return
	}
	_, _ = w.Write([]byte("ok"))
}

func (s *Server) serveVersion(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, "application/json", s.cfg.Version)
}

// strategy returns the rules of a served resource's kind.
func (s *Server) strategy(r catalog.Resource) registry.Strategy {
	return s.strategies[r.GVK().GroupKind()]
}
