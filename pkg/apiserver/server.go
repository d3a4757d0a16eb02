package apiserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/store"
)

// Config is what an API server needs.
type Config struct {
	// Store is where objects live. The caller owns it.
	Store store.Store
	// Now returns the current time; tests may inject a clock. Nil: time.Now.
	Now func() time.Time
	// ServiceCIDR is the range Service cluster IPs come from; its first
	// host is the kubernetes Service's. Empty: DefaultServiceCIDR.
	ServiceCIDR string
	// NodePortRange is the range of NodePorts, "first-last". Empty:
	// DefaultNodePortRange.
	NodePortRange string
	// Security turns on authentication, authorization, encryption at rest,
	// auditing and limits; the zero value is the unauthenticated mode.
	Security
}

// Server serves the Kubernetes REST API over a Store.
type Server struct {
	store   store.Store
	now     func() time.Time
	router  *mux.Router
	metrics *metrics
	// services allocates Service cluster IPs and node ports.
	services *serviceAllocator
	// auth is nil in the unauthenticated mode; rbac is set with it.
	auth  *AuthConfig
	rbac  *rbacAuthorizer
	audit *auditLog // nil: no audit log
	sec   Security
}

// New returns a Server. It makes no network connections until Handler is
// served or Bootstrap is called.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("apiserver: a store is required")
	}
	services, err := newServiceAllocator(cfg.Store, cfg.ServiceCIDR, cfg.NodePortRange)
	if err != nil {
		return nil, err
	}
	st := newEncryptingStore(cfg.Store, cfg.Encryption)
	s := &Server{store: st, now: cfg.Now, metrics: newMetrics(), services: services, sec: cfg.Security}
	s.initSecurity()
	if s.now == nil {
		s.now = time.Now
	}
	r := mux.NewRouter()
	r.HandleFunc("/healthz", s.healthz)
	r.HandleFunc("/livez", s.healthz)
	r.HandleFunc("/readyz", s.readyz)
	r.HandleFunc("/version", s.version)
	r.HandleFunc("/metrics", s.metrics.serve)
	r.HandleFunc("/openapi/v3", s.serveOpenAPI)
	r.PathPrefix("/openapi/v3/").HandlerFunc(s.serveOpenAPI)
	r.HandleFunc("/api", s.apiVersions)
	r.HandleFunc("/apis", s.apiGroups)
	r.HandleFunc("/api/{version}", s.resourceList)
	r.HandleFunc("/apis/{group}/{version}", s.resourceList)
	r.HandleFunc("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", s.serveSelfSubjectAccessReview)
	r.HandleFunc("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", s.serveSelfSubjectRulesReview)
	r.PathPrefix("/api/").HandlerFunc(s.serveResource)
	r.PathPrefix("/apis/").HandlerFunc(s.serveResource)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, apierrors.New(apierrors.ErrNotFound, "the server could not find the requested resource (%s)", r.URL.Path))
	})
	s.router = r
	return s, nil
}

// Handler returns the HTTP handler of the whole API.
func (s *Server) Handler() http.Handler { return s.metrics.wrap(s.secure(s.router)) }

// systemNamespaces exist from the start, as in Kubernetes.
var systemNamespaces = []string{"default", "kube-system", "kube-public", "kube-node-lease"}

// Bootstrap creates what a fresh cluster must have (the system
// namespaces and the kubernetes Service). It is idempotent: existing
// objects are left as they are.
func (s *Server) Bootstrap(ctx context.Context) error {
	k, _ := apis.ByResource("", "namespaces")
	for _, name := range systemNamespaces {
		ns := &core.Namespace{ObjectMeta: meta.ObjectMeta{Name: name}}
		if _, err := s.create(ctx, k, ns, false); err != nil && !errors.Is(err, apierrors.ErrAlreadyExists) {
			return fmt.Errorf("create namespace %s: %w", name, err)
		}
	}
	if err := s.ensureKubernetesService(ctx); err != nil {
		return fmt.Errorf("create the kubernetes service: %w", err)
	}
	return s.bootstrapPolicy(ctx)
}

// Serve answers HTTP on l until ctx is done, then shuts down gracefully
// (open watches are closed).
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		hs.Close()
	}
	slog.Info("apiserver stopped")
	return nil
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	w.Write([]byte("ok"))
}

// readyz is ready when the store answers.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if _, err := s.store.Revision(ctx); err != nil {
		http.Error(w, "etcd: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Write([]byte("ok"))
}

// serveResource is every /api/... and /apis/... resource request.
func (s *Server) serveResource(w http.ResponseWriter, r *http.Request) {
	info, err := resolve(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	switch info.Subresource {
	case "":
	case "status":
		if info.Verb == "get" {
			break
		}
		s.serveUpdate(w, r, info)
		return
	case "scale":
		s.serveScale(w, r, info)
		return
	case "binding":
		s.serveBinding(w, r, info)
		return
	case "token":
		s.serveTokenRequest(w, r, info)
		return
	default:
		if info.Verb == "get" {
			s.serveSubresourceGet(w, r, info)
			return
		}
	}
	switch info.Verb {
	case "get":
		s.serveGet(w, r, info)
	case "list":
		s.serveList(w, r, info)
	case "watch":
		s.serveWatch(w, r, info)
	case "create":
		s.serveCreate(w, r, info)
	case "update", "patch":
		s.serveUpdate(w, r, info)
	case "delete":
		s.serveDelete(w, r, info)
	case "deletecollection":
		s.serveDeleteCollection(w, r, info)
	}
}
