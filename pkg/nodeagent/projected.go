package nodeagent

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

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
