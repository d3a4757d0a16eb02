package apiserver

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"minik8s/pkg/apis/apierrors"
)

// Well-known groups, as in Kubernetes.
const (
	GroupMasters         = "system:masters"
	GroupAuthenticated   = "system:authenticated"
	GroupNodes           = "system:nodes"
	GroupServiceAccounts = "system:serviceaccounts"
	nodeUserPrefix       = "system:node:"
	saUserPrefix         = "system:serviceaccount:"
)

// UserInfo is who sent a request, as an authenticator established it.
type UserInfo struct {
	Name   string
	UID    string
	Groups []string
}

func (u *UserInfo) inGroup(g string) bool {
	for _, x := range u.Groups {
		if x == g {
			return true
		}
	}
	return false
}

// AuthConfig turns on authentication and authorization. Without it
// (Config.Auth nil) every request is served as an unauthenticated local
// one: the loopback-only plain-HTTP mode.
type AuthConfig struct {
	// ClientCAs verify x509 client certificates (CN = user, O = groups).
	ClientCAs *x509.CertPool
	// Tokens maps static bearer tokens to their users (--token-auth-file).
	Tokens map[string]*UserInfo
	// SAKeys verify ServiceAccount tokens; SASigner (may be nil) issues
	// them through TokenRequest.
	SAKeys   []crypto.PublicKey
	SASigner crypto.Signer
	// Issuer is the iss claim of ServiceAccount tokens; Audiences are the
	// audiences the API server accepts. Empty: DefaultIssuer.
	Issuer    string
	Audiences []string
	// Modes are the authorizers in order: "Node", "RBAC", "AlwaysAllow".
	// A request is allowed when one of them allows it.
	Modes []string
}

// DefaultIssuer is the issuer and audience of ServiceAccount tokens, as
// in Kubernetes' default --service-account-issuer.
const DefaultIssuer = "https://kubernetes.default.svc.cluster.local"

// anonymousPaths are the only paths served without credentials: probes
// and the version, as Kubernetes' system:public-info-viewer allows.
var anonymousPaths = map[string]bool{"/healthz": true, "/livez": true, "/readyz": true, "/version": true}

// requestState is what the filters learn about a request, shared through
// its context: the audit filter creates it, authentication fills the
// user, authorization the attributes.
type requestState struct {
	user  *UserInfo
	attrs *attributes
}

type stateKey struct{}

func stateFrom(ctx context.Context) *requestState {
	st, _ := ctx.Value(stateKey{}).(*requestState)
	return st
}

// UserFrom returns the authenticated user of a request's context, or nil
// (no authentication configured, or an anonymous probe).
func UserFrom(ctx context.Context) *UserInfo {
	if st := stateFrom(ctx); st != nil {
		return st.user
	}
	return nil
}

// withState makes sure r carries a requestState.
func withState(r *http.Request) (*http.Request, *requestState) {
	if st := stateFrom(r.Context()); st != nil {
		return r, st
	}
	st := &requestState{}
	return r.WithContext(context.WithValue(r.Context(), stateKey{}, st)), st
}

// errUnauthorized is every authentication failure. Its message is the
// same whatever failed, as in Kubernetes: a caller learns nothing about
// which credential was close.
var errUnauthorized = apierrors.New(apierrors.ErrUnauthorized, "Unauthorized")

// withAuthentication refuses requests without valid credentials (401),
// except anonymousPaths, and records the user for the filters after it.
func (s *Server) withAuthentication(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, st := withState(r)
		u, err := s.authenticate(r)
		if err != nil || (u == nil && !anonymousPaths[r.URL.Path]) {
			w.Header().Set("WWW-Authenticate", `Basic realm="minik8s"`)
			writeError(w, r, errUnauthorized)
			return
		}
		st.user = u
		next.ServeHTTP(w, r)
	})
}

// authenticate tries each credential the request carries: a verified
// client certificate, then a bearer token (static, then ServiceAccount).
// nil, nil is an anonymous request; an error, credentials that are wrong.
func (s *Server) authenticate(r *http.Request) (*UserInfo, error) {
	var failed error
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		u, err := s.authenticateCert(r.TLS.PeerCertificates)
		if err == nil {
			return withAuthenticated(u), nil
		}
		failed = err
	}
	if h := r.Header.Get("Authorization"); h != "" {
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || strings.TrimSpace(token) == "" {
			return nil, errors.New("authorization header is not a bearer token")
		}
		u, err := s.authenticateToken(r.Context(), strings.TrimSpace(token))
		if err == nil {
			return withAuthenticated(u), nil
		}
		failed = err
	}
	return nil, failed
}

func withAuthenticated(u *UserInfo) *UserInfo {
	if !u.inGroup(GroupAuthenticated) {
		u.Groups = append(u.Groups, GroupAuthenticated)
	}
	return u
}

// authenticateCert verifies the client's chain against the client CAs
// (for client authentication) and reads CN and O, as Kubernetes does.
func (s *Server) authenticateCert(chain []*x509.Certificate) (*UserInfo, error) {
	if s.auth.ClientCAs == nil {
		return nil, errors.New("no client CA configured")
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{
		Roots: s.auth.ClientCAs, Intermediates: inter, CurrentTime: s.now(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return nil, fmt.Errorf("verifying the client certificate: %w", err)
	}
	cn := chain[0].Subject.CommonName
	if cn == "" {
		return nil, errors.New("client certificate has no common name")
	}
	return &UserInfo{Name: cn, Groups: append([]string(nil), chain[0].Subject.Organization...)}, nil
}

func (s *Server) authenticateToken(ctx context.Context, token string) (*UserInfo, error) {
	if u, ok := s.auth.Tokens[token]; ok {
		cp := *u
		cp.Groups = append([]string(nil), u.Groups...)
		return &cp, nil
	}
	if strings.Count(token, ".") == 2 && len(s.auth.SAKeys) > 0 {
		return s.authenticateServiceAccount(ctx, token)
	}
	return nil, errors.New("unknown token")
}

// ReadTokenFile reads Kubernetes' static token file: CSV lines of
// token,user,uid[,"group1,group2"]; blank lines and # comments skipped.
func ReadTokenFile(path string) (map[string]*UserInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.Comment = '#'
	r.TrimLeadingSpace = true
	tokens := map[string]*UserInfo{}
	for line := 1; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			return tokens, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(rec) < 3 || rec[0] == "" || rec[1] == "" {
			return nil, fmt.Errorf("%s: line %d: want token,user,uid[,\"groups\"]", path, line)
		}
		u := &UserInfo{Name: rec[1], UID: rec[2]}
		if len(rec) > 3 && rec[3] != "" {
			for _, g := range strings.Split(rec[3], ",") {
				u.Groups = append(u.Groups, strings.TrimSpace(g))
			}
		}
		tokens[rec[0]] = u
	}
}
