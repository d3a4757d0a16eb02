package apiserver

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/authentication"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
)

// saClaims are the claims of a bound ServiceAccount token, with
// Kubernetes' names so in-cluster tools can read them.
type saClaims struct {
	Issuer    string   `json:"iss"`
	Subject   string   `json:"sub"`
	Audience  []string `json:"aud"`
	Expiry    int64    `json:"exp"`
	IssuedAt  int64    `json:"iat"`
	NotBefore int64    `json:"nbf"`
	K8s       struct {
		Namespace      string     `json:"namespace"`
		ServiceAccount objectRef  `json:"serviceaccount"`
		Pod            *objectRef `json:"pod,omitempty"`
	} `json:"kubernetes.io"`
}

type objectRef struct {
	Name string `json:"name"`
	UID  string `json:"uid"`
}

var b64 = base64.RawURLEncoding

// signJWT is a compact JWS (ES256 for an ECDSA P-256 key, RS256 for RSA).
func signJWT(key crypto.Signer, claims any) (string, error) {
	alg := "RS256"
	if _, ok := key.(*ecdsa.PrivateKey); ok {
		alg = "ES256"
	}
	hdr, _ := json.Marshal(map[string]string{"alg": alg, "typ": "JWT"})
	body, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := b64.EncodeToString(hdr) + "." + b64.EncodeToString(body)
	sum := sha256.Sum256([]byte(input))
	var sig []byte
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, k, sum[:])
		if err != nil {
			return "", err
		}
		// JWS wants r||s, each left-padded to 32 bytes (RFC 7518 3.4).
		sig = make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
	case *rsa.PrivateKey:
		sig, err = rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, sum[:])
		if err != nil {
			return "", err
		}
	default:
		return "", fmt.Errorf("unsupported signing key %T", key)
	}
	return input + "." + b64.EncodeToString(sig), nil
}

// verifyJWT checks the signature against any of keys and decodes the
// claims into out. It checks nothing else.
func verifyJWT(token string, keys []crypto.PublicKey, out any) error {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return errors.New("not a JWT")
	}
	var hdr struct{ Alg string }
	hb, err := b64.DecodeString(parts[0])
	if err != nil || json.Unmarshal(hb, &hdr) != nil {
		return errors.New("bad JWT header")
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		return errors.New("bad JWT signature encoding")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	ok := false
	for _, k := range keys {
		switch k := k.(type) {
		case *ecdsa.PublicKey:
			if hdr.Alg == "ES256" && len(sig) == 64 {
				r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
				ok = ecdsa.Verify(k, sum[:], r, s)
			}
		case *rsa.PublicKey:
			ok = hdr.Alg == "RS256" && rsa.VerifyPKCS1v15(k, crypto.SHA256, sum[:], sig) == nil
		}
		if ok {
			break
		}
	}
	if !ok {
		return errors.New("invalid JWT signature")
	}
	body, err := b64.DecodeString(parts[1])
	if err != nil {
		return errors.New("bad JWT claims encoding")
	}
	return json.Unmarshal(body, out)
}

// ReadPublicKeys reads the PEM public keys (or private keys, whose public
// halves are used) in path: --service-account-key-file.
func ReadPublicKeys(path string) ([]crypto.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var keys []crypto.PublicKey
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		switch b.Type {
		case "PUBLIC KEY":
			k, err := x509.ParsePKIXPublicKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			keys = append(keys, k)
		case "RSA PUBLIC KEY":
			k, err := x509.ParsePKCS1PublicKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			keys = append(keys, k)
		default:
			signer, err := parsePrivateKey(b)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			keys = append(keys, signer.Public())
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s: no PEM keys", path)
	}
	return keys, nil
}

// ReadPrivateKey reads a PEM private key: --service-account-signing-key-file.
func ReadPrivateKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, fmt.Errorf("%s: no PEM private key", path)
	}
	k, err := parsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

func parsePrivateKey(b *pem.Block) (crypto.Signer, error) {
	if k, err := x509.ParseECPrivateKey(b.Bytes); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(b.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, err
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, errors.New("unsupported private key type")
	}
	return s, nil
}

func (s *Server) issuer() string {
	if s.auth.Issuer != "" {
		return s.auth.Issuer
	}
	return DefaultIssuer
}

func (s *Server) audiences() []string {
	if len(s.auth.Audiences) > 0 {
		return s.auth.Audiences
	}
	return []string{s.issuer()}
}

// authenticateServiceAccount checks a ServiceAccount token: signature,
// issuer, audience, lifetime, and that the ServiceAccount (and the pod it
// is bound to) still exist with the uids it was issued for, so deleting
// either revokes it (Kubernetes' bound token semantics).
func (s *Server) authenticateServiceAccount(ctx context.Context, token string) (*UserInfo, error) {
	var c saClaims
	if err := verifyJWT(token, s.auth.SAKeys, &c); err != nil {
		return nil, err
	}
	now := s.now().Unix()
	switch {
	case c.Issuer != s.issuer():
		return nil, errors.New("token issuer is not this cluster's")
	case now >= c.Expiry:
		return nil, errors.New("token has expired")
	case c.NotBefore > now+60:
		return nil, errors.New("token is not valid yet")
	case !slices.ContainsFunc(c.Audience, func(a string) bool { return slices.Contains(s.audiences(), a) }):
		return nil, errors.New("token audience is not the API server's")
	}
	ns, sa := c.K8s.Namespace, c.K8s.ServiceAccount
	saKind, _ := apis.ByResource("", "serviceaccounts")
	obj, err := s.get(ctx, saKind, ns, sa.Name)
	if err != nil || obj.GetObjectMeta().UID != sa.UID {
		return nil, fmt.Errorf("service account %s/%s has been deleted", ns, sa.Name)
	}
	if p := c.K8s.Pod; p != nil {
		podKind, _ := apis.ByResource("", "pods")
		obj, err := s.get(ctx, podKind, ns, p.Name)
		if err != nil || obj.GetObjectMeta().UID != p.UID {
			return nil, fmt.Errorf("pod %s/%s the token is bound to has been deleted", ns, p.Name)
		}
	}
	return &UserInfo{
		Name:   saUserPrefix + ns + ":" + sa.Name,
		UID:    sa.UID,
		Groups: []string{GroupServiceAccounts, GroupServiceAccounts + ":" + ns},
	}, nil
}

// Token lifetimes, as Kubernetes bounds them.
const (
	defaultTokenSeconds = 3600
	minTokenSeconds     = 600
	maxTokenSeconds     = 48 * 3600
)

// serveTokenRequest is POST serviceaccounts/{name}/token: it issues a
// token for the ServiceAccount, bound to the pod the request names.
func (s *Server) serveTokenRequest(w http.ResponseWriter, r *http.Request, info *requestInfo) {
	if info.Verb != "create" {
		writeError(w, r, apierrors.New(apierrors.ErrMethodNotAllowed, "serviceaccounts/token accepts only POST"))
		return
	}
	if s.auth == nil || s.auth.SASigner == nil {
		writeError(w, r, apierrors.New(apierrors.ErrNotFound, "the server has no service account signing key (--service-account-signing-key-file)"))
		return
	}
	body, err := readBody(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	doc, _, err := toJSON(body, mediaType(r))
	if err != nil {
		writeError(w, r, err)
		return
	}
	var tr authentication.TokenRequest
	if err := json.Unmarshal(doc, &tr); err != nil {
		writeError(w, r, apierrors.New(apierrors.ErrBadRequest, "decoding the TokenRequest: %v", err))
		return
	}
	token, exp, err := s.issueToken(r.Context(), info.Namespace, info.Name, &tr.Spec, UserFrom(r.Context()))
	if err != nil {
		writeError(w, r, err)
		return
	}
	tr.APIVersion, tr.Kind = "authentication.k8s.io/v1", "TokenRequest"
	tr.Name, tr.Namespace = info.Name, info.Namespace
	tr.CreationTimestamp = meta.NewTime(s.now())
	tr.Status = authentication.TokenRequestStatus{Token: token, ExpirationTimestamp: meta.NewTime(exp)}
	writeObject(w, r, http.StatusCreated, &tr)
}

// issueToken signs a token for ServiceAccount ns/name. A node may only
// ask for tokens bound to pods it runs that use that ServiceAccount
// (NodeRestriction).
func (s *Server) issueToken(ctx context.Context, ns, name string, spec *authentication.TokenRequestSpec, user *UserInfo) (string, time.Time, error) {
	saKind, _ := apis.ByResource("", "serviceaccounts")
	saObj, err := s.get(ctx, saKind, ns, name)
	if err != nil {
		return "", time.Time{}, err
	}
	secs := int64(defaultTokenSeconds)
	if spec.ExpirationSeconds != nil {
		secs = min(max(*spec.ExpirationSeconds, minTokenSeconds), maxTokenSeconds)
	}
	auds := spec.Audiences
	if len(auds) == 0 {
		auds = s.audiences()
	}
	now := s.now()
	var c saClaims
	c.Issuer, c.Subject, c.Audience = s.issuer(), saUserPrefix+ns+":"+name, auds
	c.IssuedAt, c.NotBefore, c.Expiry = now.Unix(), now.Unix(), now.Add(time.Duration(secs)*time.Second).Unix()
	c.K8s.Namespace = ns
	c.K8s.ServiceAccount = objectRef{Name: name, UID: saObj.GetObjectMeta().UID}
	if ref := spec.BoundObjectRef; ref != nil {
		if ref.Kind != "Pod" {
			return "", time.Time{}, apierrors.New(apierrors.ErrBadRequest, "spec.boundObjectRef.kind: only Pod is supported, not %q", ref.Kind)
		}
		podKind, _ := apis.ByResource("", "pods")
		obj, err := s.get(ctx, podKind, ns, ref.Name)
		if err != nil {
			return "", time.Time{}, err
		}
		pod := obj.(*core.Pod)
		if ref.UID != "" && ref.UID != pod.UID {
			return "", time.Time{}, apierrors.New(apierrors.ErrConflict, "pod %s/%s has uid %s, not %s", ns, ref.Name, pod.UID, ref.UID)
		}
		if pod.Spec.ServiceAccountName != name {
			return "", time.Time{}, apierrors.New(apierrors.ErrBadRequest, "pod %s/%s uses service account %q, not %q", ns, pod.Name, pod.Spec.ServiceAccountName, name)
		}
		if node, ok := nodeName(user); ok && pod.Spec.NodeName != node {
			return "", time.Time{}, apierrors.New(apierrors.ErrForbidden, "node %q can only request tokens for pods bound to it; pod %s/%s is not", node, ns, pod.Name)
		}
		c.K8s.Pod = &objectRef{Name: pod.Name, UID: pod.UID}
	} else if node, ok := nodeName(user); ok {
		return "", time.Time{}, apierrors.New(apierrors.ErrForbidden, "node %q can only request tokens bound to a pod (spec.boundObjectRef)", node)
	}
	token, err := signJWT(s.auth.SASigner, &c)
	if err != nil {
		return "", time.Time{}, err
	}
	return token, time.Unix(c.Expiry, 0), nil
}

// nodeName is the node a node's credentials name (system:node:<name> in
// group system:nodes).
func nodeName(u *UserInfo) (string, bool) {
	if u == nil || !u.inGroup(GroupNodes) {
		return "", false
	}
	n, ok := strings.CutPrefix(u.Name, nodeUserPrefix)
	return n, ok && n != ""
}
