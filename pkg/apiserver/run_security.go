package apiserver

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"gopkg.in/natefinch/lumberjack.v2"
)

// validateSecurity checks the security flags' combinations.
func (c *RunConfig) validateSecurity() error {
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return errors.New("--tls-cert-file and --tls-private-key-file go together")
	}
	if (c.KubeletClientCertFile == "") != (c.KubeletClientKeyFile == "") {
		return errors.New("--kubelet-client-certificate and --kubelet-client-key go together")
	}
	if c.TLSCertFile == "" {
		for flag, v := range map[string]string{"--client-ca-file": c.ClientCAFile, "--token-auth-file": c.TokenAuthFile,
			"--service-account-key-file": c.ServiceAccountKeyFile, "--service-account-signing-key-file": c.ServiceAccountSigningKeyFile} {
			if v != "" {
				return fmt.Errorf("%s needs --tls-cert-file: credentials are only accepted over TLS", flag)
			}
		}
		if c.AuthorizationMode != "" && c.AuthorizationMode != "AlwaysAllow" {
			return fmt.Errorf("--authorization-mode %s needs --tls-cert-file: without TLS nobody is authenticated", c.AuthorizationMode)
		}
	}
	for _, m := range c.modes() {
		if m != "Node" && m != "RBAC" && m != "AlwaysAllow" {
			return fmt.Errorf("--authorization-mode: unknown mode %q (want Node, RBAC or AlwaysAllow)", m)
		}
	}
	if c.AuditLogMaxSize < 0 || c.MaxRequestsInflight < 0 || c.MaxMutatingRequestsInflight < 0 || c.RequestTimeout < 0 {
		return errors.New("--audit-log-maxsize, --max-requests-inflight, --max-mutating-requests-inflight and --request-timeout must not be negative")
	}
	return nil
}

func (c *RunConfig) modes() []string {
	mode := c.AuthorizationMode
	if mode == "" {
		mode = "AlwaysAllow"
		if c.TLSCertFile != "" {
			mode = "Node,RBAC"
		}
	}
	var out []string
	for _, m := range strings.Split(mode, ",") {
		if m = strings.TrimSpace(m); m != "" {
			out = append(out, m)
		}
	}
	return out
}

// security reads the files the flags name. close releases the audit log.
func (c *RunConfig) security() (Security, func(), error) {
	sec := Security{
		MaxRequestsInflight: c.MaxRequestsInflight, MaxMutatingRequestsInflight: c.MaxMutatingRequestsInflight,
		RequestTimeout: c.RequestTimeout,
	}
	closer := func() {}
	if c.EncryptionProviderConfig != "" {
		enc, err := ReadEncryptionConfig(c.EncryptionProviderConfig)
		if err != nil {
			return sec, closer, fmt.Errorf("--encryption-provider-config: %w", err)
		}
		sec.Encryption = enc
	}
	if c.TLSCertFile != "" {
		auth, err := c.authConfig()
		if err != nil {
			return sec, closer, err
		}
		sec.Auth = auth
	}
	if c.KubeletClientCertFile != "" {
		pair, err := tls.LoadX509KeyPair(c.KubeletClientCertFile, c.KubeletClientKeyFile)
		if err != nil {
			return sec, closer, fmt.Errorf("--kubelet-client-certificate/--kubelet-client-key: %w", err)
		}
		sec.AgentTLS = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
		if c.KubeletCAFile != "" {
			ca, err := os.ReadFile(c.KubeletCAFile)
			if err != nil {
				return sec, closer, fmt.Errorf("--kubelet-certificate-authority: %w", err)
			}
			sec.AgentTLS.RootCAs = x509.NewCertPool()
			if !sec.AgentTLS.RootCAs.AppendCertsFromPEM(ca) {
				return sec, closer, fmt.Errorf("--kubelet-certificate-authority %s: no PEM certificate", c.KubeletCAFile)
			}
		} else {
			// As Kubernetes without --kubelet-certificate-authority: the
			// agent's identity is not checked (CIS 1.2.5 asks for the CA).
			sec.AgentTLS.InsecureSkipVerify = true
		}
	}
	if c.AuditLogPath != "" {
		lj := &lumberjack.Logger{Filename: c.AuditLogPath, MaxSize: c.AuditLogMaxSize, MaxBackups: c.AuditLogMaxBackups}
		sec.AuditLog = lj
		closer = func() { lj.Close() }
	}
	return sec, closer, nil
}

// etcdTLS is how to reach an external etcd: nil (plain) unless
// --etcd-cafile is given; then members are verified by it and, with
// --etcd-certfile/--etcd-keyfile, the API server shows its certificate.
func (c *RunConfig) etcdTLS() (*tls.Config, error) {
	if c.EtcdCAFile == "" {
		if c.EtcdCertFile != "" {
			return nil, errors.New("--etcd-certfile needs --etcd-cafile")
		}
		return nil, nil
	}
	ca, err := os.ReadFile(c.EtcdCAFile)
	if err != nil {
		return nil, fmt.Errorf("--etcd-cafile: %w", err)
	}
	tc := &tls.Config{RootCAs: x509.NewCertPool(), MinVersion: tls.VersionTLS12}
	if !tc.RootCAs.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("--etcd-cafile %s: no PEM certificate", c.EtcdCAFile)
	}
	if c.EtcdCertFile != "" {
		pair, err := tls.LoadX509KeyPair(c.EtcdCertFile, c.EtcdKeyFile)
		if err != nil {
			return nil, fmt.Errorf("--etcd-certfile/--etcd-keyfile: %w", err)
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	return tc, nil
}

func (c *RunConfig) authConfig() (*AuthConfig, error) {
	auth := &AuthConfig{Issuer: c.ServiceAccountIssuer, Modes: c.modes()}
	if c.ClientCAFile != "" {
		pem, err := os.ReadFile(c.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("--client-ca-file: %w", err)
		}
		auth.ClientCAs = x509.NewCertPool()
		if !auth.ClientCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--client-ca-file %s: no PEM certificates", c.ClientCAFile)
		}
	}
	if c.TokenAuthFile != "" {
		tokens, err := ReadTokenFile(c.TokenAuthFile)
		if err != nil {
			return nil, fmt.Errorf("--token-auth-file: %w", err)
		}
		auth.Tokens = tokens
	}
	if c.ServiceAccountSigningKeyFile != "" {
		k, err := ReadPrivateKey(c.ServiceAccountSigningKeyFile)
		if err != nil {
			return nil, fmt.Errorf("--service-account-signing-key-file: %w", err)
		}
		auth.SASigner = k
		auth.SAKeys = append(auth.SAKeys, k.Public())
	}
	if c.ServiceAccountKeyFile != "" {
		keys, err := ReadPublicKeys(c.ServiceAccountKeyFile)
		if err != nil {
			return nil, fmt.Errorf("--service-account-key-file: %w", err)
		}
		auth.SAKeys = append(auth.SAKeys, keys...)
	}
	return auth, nil
}

// TLSConfig is the API server's TLS: 1.2 or later, only ECDHE key
// exchange with AEAD ciphers (the CIS benchmark's strong-cipher list),
// client certificates requested but verified by the x509 authenticator,
// so a wrong certificate gets a 401 Status rather than a handshake error.
func TLSConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
		ClientAuth: tls.RequestClientCert,
		NextProtos: []string{"http/1.1"},
	}
}

func (c *RunConfig) tlsListener(l net.Listener) (net.Listener, error) {
	cert, err := tls.LoadX509KeyPair(c.TLSCertFile, c.TLSKeyFile)
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("--tls-cert-file/--tls-private-key-file: %w", err)
	}
	return tls.NewListener(l, TLSConfig(cert)), nil
}
