package nodeagent

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/authentication"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/client"
)

// projectedVolume materialises a projected volume in dir: Secret and
// ConfigMap keys, downward API fields and a ServiceAccount token the
// agent requests for this pod (TokenRequest bound to the pod, so it dies
// with it). This is what the kube-api-access-xxxxx volume of every pod
// needs: token, ca.crt and namespace under
// /var/run/secrets/kubernetes.io/serviceaccount.
//
// Every file is written with a rename, so calling it again (to refresh a
// token before it expires, as the kubelet does at 80% of its lifetime)
// is safe while containers read the files.
func (a *Agent) projectedVolume(ctx context.Context, pod *core.Pod, v core.Volume, dir string) error {
	p := v.Projected
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, src := range p.Sources {
		switch {
		case src.Secret != nil:
			data, err := a.secretData(ctx, pod.Namespace, src.Secret.Name, src.Secret.Optional)
			if err != nil {
				return err
			}
			if err := writeFiles(dir, data, src.Secret.Items, p.DefaultMode); err != nil {
				return err
			}
		case src.ConfigMap != nil:
			data, err := a.configMapData(ctx, pod.Namespace, src.ConfigMap.Name, src.ConfigMap.Optional)
			if err != nil {
				return err
			}
			if err := writeFiles(dir, data, src.ConfigMap.Items, p.DefaultMode); err != nil {
				return err
			}
		case src.DownwardAPI != nil:
			files := map[string]string{}
			for _, it := range src.DownwardAPI.Items {
				if it.FieldRef == nil {
					continue // resourceFieldRef is not supported in volumes yet
				}
				val, err := fieldRef(pod, it.FieldRef.FieldPath, pod.Status.PodIP, a.hostIP)
				if err != nil {
					return err
				}
				files[it.Path] = val
			}
			if err := writeFiles(dir, files, nil, p.DefaultMode); err != nil {
				return err
			}
		case src.ServiceAccountToken != nil:
			token, err := a.requestToken(ctx, pod, src.ServiceAccountToken)
			if err != nil {
				return err
			}
			path := src.ServiceAccountToken.Path
			if err := writeFiles(dir, map[string]string{path: token}, nil, p.DefaultMode); err != nil {
				return err
			}
		}
	}
	return nil
}

// requestToken asks the API server for a token of the pod's
// ServiceAccount, bound to the pod (NodeRestriction lets a node ask only
// for pods bound to it).
func (a *Agent) requestToken(ctx context.Context, pod *core.Pod, proj *core.ServiceAccountTokenProjection) (string, error) {
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = core.DefaultServiceAccountName
	}
	req := authentication.TokenRequest{Spec: authentication.TokenRequestSpec{
		ExpirationSeconds: proj.ExpirationSeconds,
		BoundObjectRef:    &authentication.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
	}}
	req.APIVersion, req.Kind = "authentication.k8s.io/v1", "TokenRequest"
	if proj.Audience != "" {
		req.Spec.Audiences = []string{proj.Audience}
	}
	body, err := json.Marshal(&req)
	if err != nil {
		return "", err
	}
	saKind, _ := apis.ByResource("", "serviceaccounts")
	var out authentication.TokenRequest
	if err := a.client.Do(ctx, "POST", client.Path(saKind, pod.Namespace, sa, "token"), nil, "application/json", body, &out); err != nil {
		return "", fmt.Errorf("requesting a token for service account %s/%s: %w", pod.Namespace, sa, err)
	}
	return out.Status.Token, nil
}

// refreshTokens replaces the ServiceAccount tokens of a pod's projected
// volumes that are due (tokenRefreshDue). It reads the token files, not a
// memory of when they were issued, so a restarted agent refreshes on time
// too.
func (a *Agent) refreshTokens(ctx context.Context, pod *core.Pod, now time.Time) error {
	base := filepath.Join(podDir(a.cfg.RootDir, pod.UID), "volumes")
	for _, v := range pod.Spec.Volumes {
		if v.Projected == nil {
			continue
		}
		dir := filepath.Join(base, v.Name)
		for _, src := range v.Projected.Sources {
			if src.ServiceAccountToken == nil {
				continue
			}
			token, err := os.ReadFile(filepath.Join(dir, src.ServiceAccountToken.Path))
			if os.IsNotExist(err) {
				continue // no container started yet: the start writes it
			}
			if err == nil && !tokenRefreshDue(token, now) {
				continue
			}
			if err := a.projectedVolume(ctx, pod, v, dir); err != nil {
				return fmt.Errorf("refreshing the token in volume %s: %w", v.Name, err)
			}
			break // projectedVolume wrote every source of v
		}
	}
	return nil
}

// tokenRefreshDue reports whether a projected token should be replaced:
// once 80% of its lifetime has passed, as the kubelet does, or when it is
// not a JWT with iat and exp. The claims are only read, not verified: the
// agent wrote the file itself.
func tokenRefreshDue(token []byte, now time.Time) bool {
	parts := bytes.Split(bytes.TrimSpace(token), []byte("."))
	if len(parts) != 3 {
		return true
	}
	payload, err := base64.RawURLEncoding.DecodeString(string(parts[1]))
	if err != nil {
		return true
	}
	var c struct{ Iat, Exp int64 }
	if json.Unmarshal(payload, &c) != nil || c.Exp <= c.Iat {
		return true
	}
	refreshAt := c.Iat + (c.Exp-c.Iat)*8/10
	return now.Unix() >= refreshAt
}
