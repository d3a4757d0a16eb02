package client

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"
)

// Config is how to reach and authenticate to an API server.
type Config struct {
	// Server is the API server's URL (https://host:6443).
	Server string
	// TLS holds the CA that verifies the server and the client
	// certificate, if any. Nil: plain HTTP or the system roots.
	TLS *tls.Config
	// BearerToken is sent as "Authorization: Bearer ..." (over HTTPS only,
	// as kubectl does). TokenFile is re-read on every request, so rotated
	// ServiceAccount tokens are picked up.
	BearerToken string
	TokenFile   string
	// CAData is the PEM CA in TLS.RootCAs, kept so that the client can
	// hand it on (the kube-root-ca.crt ConfigMap).
	CAData []byte
}

// NewForConfig returns a client for cfg.
func NewForConfig(cfg Config) (*Client, error) {
	c, err := New(cfg.Server)
	if err != nil {
		return nil, err
	}
	tr := c.http.Transport.(*http.Transport)
	tr.TLSClientConfig = cfg.TLS
	c.caPEM = cfg.CAData
	if (cfg.BearerToken != "" || cfg.TokenFile != "") && c.base.Scheme == "https" {
		c.http.Transport = &bearerTransport{next: tr, token: cfg.BearerToken, file: cfg.TokenFile}
	}
	return c, nil
}

type bearerTransport struct {
	next        http.RoundTripper
	token, file string
}

func (b *bearerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	token := b.token
	if b.file != "" {
		data, err := os.ReadFile(b.file)
		if err != nil {
			return nil, fmt.Errorf("reading the token: %w", err)
		}
		token = strings.TrimSpace(string(data))
	}
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+token)
	return b.next.RoundTrip(r)
}

// kubeconfig is the subset of kubectl's config file minik8s reads.
type kubeconfig struct {
	CurrentContext string `json:"current-context"`
	Clusters       []struct {
		Name    string `json:"name"`
		Cluster struct {
			Server                   string `json:"server"`
			CertificateAuthority     string `json:"certificate-authority"`
			CertificateAuthorityData string `json:"certificate-authority-data"`
			InsecureSkipTLSVerify    bool   `json:"insecure-skip-tls-verify"`
			TLSServerName            string `json:"tls-server-name"`
		} `json:"cluster"`
	} `json:"clusters"`
	Users []struct {
		Name string `json:"name"`
		User struct {
			ClientCertificate     string `json:"client-certificate"`
			ClientCertificateData string `json:"client-certificate-data"`
			ClientKey             string `json:"client-key"`
			ClientKeyData         string `json:"client-key-data"`
			Token                 string `json:"token"`
			TokenFile             string `json:"tokenFile"`
		} `json:"user"`
	} `json:"users"`
	Contexts []struct {
		Name    string `json:"name"`
		Context struct {
			Cluster string `json:"cluster"`
			User    string `json:"user"`
		} `json:"context"`
	} `json:"contexts"`
}

// FromKubeconfig returns a client for the current context of the
// kubeconfig file at path: its cluster's server and CA, its user's client
// certificate or token. Relative file names are relative to the file.
func FromKubeconfig(path string) (*Client, error) {
	cfg, err := ConfigFromKubeconfig(path)
	if err != nil {
		return nil, err
	}
	return NewForConfig(cfg)
}

// ConfigFromKubeconfig reads a kubeconfig file into a Config.
func ConfigFromKubeconfig(path string) (Config, error) {
	var cfg Config
	data, err := os.ReadFile(path)
	if err != nil {
		return cfg, err
	}
	var kc kubeconfig
	if err := yaml.Unmarshal(data, &kc); err != nil {
		return cfg, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	fail := func(format string, args ...any) (Config, error) {
		return cfg, fmt.Errorf("kubeconfig %s: "+format, append([]any{path}, args...)...)
	}
	clusterName, userName := "", ""
	for _, c := range kc.Contexts {
		if c.Name == kc.CurrentContext || (kc.CurrentContext == "" && len(kc.Contexts) == 1) {
			clusterName, userName = c.Context.Cluster, c.Context.User
		}
	}
	if clusterName == "" {
		return fail("current-context %q is not among its contexts", kc.CurrentContext)
	}
	dir := filepath.Dir(path)
	read := func(file, b64 string) ([]byte, error) {
		if b64 != "" {
			return base64.StdEncoding.DecodeString(b64)
		}
		if file == "" {
			return nil, nil
		}
		if !filepath.IsAbs(file) {
			file = filepath.Join(dir, file)
		}
		return os.ReadFile(file)
	}
	found := false
	for _, c := range kc.Clusters {
		if c.Name != clusterName {
			continue
		}
		found = true
		cfg.Server = c.Cluster.Server
		ca, err := read(c.Cluster.CertificateAuthority, c.Cluster.CertificateAuthorityData)
		if err != nil {
			return fail("cluster %s certificate authority: %v", c.Name, err)
		}
		if strings.HasPrefix(cfg.Server, "https://") {
			cfg.TLS = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.Cluster.TLSServerName, InsecureSkipVerify: c.Cluster.InsecureSkipTLSVerify}
			if ca != nil {
				cfg.CAData = ca
				cfg.TLS.RootCAs = x509.NewCertPool()
				if !cfg.TLS.RootCAs.AppendCertsFromPEM(ca) {
					return fail("cluster %s: no PEM certificate in its certificate authority", c.Name)
				}
			}
		}
	}
	if !found {
		return fail("no cluster %q", clusterName)
	}
	for _, u := range kc.Users {
		if u.Name != userName {
			continue
		}
		crt, err := read(u.User.ClientCertificate, u.User.ClientCertificateData)
		if err != nil {
			return fail("user %s client certificate: %v", u.Name, err)
		}
		key, err := read(u.User.ClientKey, u.User.ClientKeyData)
		if err != nil {
			return fail("user %s client key: %v", u.Name, err)
		}
		if crt != nil && cfg.TLS != nil {
			pair, err := tls.X509KeyPair(crt, key)
			if err != nil {
				return fail("user %s: %v", u.Name, err)
			}
			cfg.TLS.Certificates = []tls.Certificate{pair}
		}
		cfg.BearerToken = u.User.Token
		if u.User.TokenFile != "" {
			cfg.TokenFile = u.User.TokenFile
		}
	}
	return cfg, nil
}

// In-cluster paths, where every pod finds its ServiceAccount credentials.
const (
	ServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"
)

// InCluster returns a client that authenticates as the pod's
// ServiceAccount: the API server from KUBERNETES_SERVICE_HOST/PORT, the
// CA and token from ServiceAccountDir.
func InCluster() (*Client, error) {
	host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
	if host == "" || port == "" {
		return nil, fmt.Errorf("not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set")
	}
	ca, err := os.ReadFile(filepath.Join(ServiceAccountDir, "ca.crt"))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return NewForConfig(Config{Server: "https://" + host + ":" + port, TLS: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		TokenFile: filepath.Join(ServiceAccountDir, "token"), CAData: ca})
}

// CAData returns the PEM CA the client verifies the server with, or nil.
func (c *Client) CAData() []byte { return c.caPEM }

// ClientCertificate returns the certificate the client authenticates
// with, or nil (a node agent also serves its API with it).
func (c *Client) ClientCertificate() *tls.Certificate {
	if tr, ok := c.http.Transport.(*http.Transport); ok && tr.TLSClientConfig != nil && len(tr.TLSClientConfig.Certificates) > 0 {
		return &tr.TLSClientConfig.Certificates[0]
	}
	return nil
}

// NewFrom returns a client from a kubeconfig file when kubeconfig is set
// (a component's --kubeconfig), else for the plain server URL (--server).
func NewFrom(server, kubeconfig string) (*Client, error) {
	if kubeconfig != "" {
		return FromKubeconfig(kubeconfig)
	}
	return New(server)
}
