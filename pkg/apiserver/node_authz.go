package apiserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/core"
)

// authorizeNode is Kubernetes' Node authorizer for users system:node:<name>
// in group system:nodes: a node reads and writes what the pods bound to
// it need, and nothing of other nodes. Instead of Kubernetes' graph of
// pods, it lists the node's pods (a field-selected read) when a decision
// depends on them, which is cheap at minik8s's scale. Requests it does not
// allow fall through to RBAC (discovery paths, for instance).
func (s *Server) authorizeNode(ctx context.Context, a *attributes) (bool, string, error) {
	node, ok := nodeName(a.User)
	if !ok || !a.ResourceRequest {
		return false, "", nil
	}
	deny := func(format string, args ...any) (bool, string, error) {
		return false, fmt.Sprintf("node %q ", node) + fmt.Sprintf(format, args...), nil
	}
	read := a.Verb == "get" || a.Verb == "list" || a.Verb == "watch"
	switch a.APIGroup + "/" + a.Resource {
	case "/pods":
		switch {
		case a.Subresource == "" && (a.Verb == "list" || a.Verb == "watch"):
			if selectsField(a.FieldSelector, "spec.nodeName", node) {
				return true, "", nil
			}
			return deny("can only list and watch pods with fieldSelector spec.nodeName=%s", node)
		case (a.Subresource == "" && (a.Verb == "get" || a.Verb == "delete")) ||
			(a.Subresource == "status" && (a.Verb == "get" || a.Verb == "update" || a.Verb == "patch")):
			pod, err := s.getPod(ctx, a.Namespace, a.Name)
			if err != nil || pod.Spec.NodeName != node {
				return deny("can only access pods bound to it")
			}
			return true, "", nil
		}
	case "/nodes":
		switch {
		case a.Subresource == "" && read:
			return true, "", nil
		case a.Subresource == "" && a.Verb == "create":
			return true, "", nil // NodeRestriction checks the name in the body
		case (a.Subresource == "" || a.Subresource == "status") && (a.Verb == "update" || a.Verb == "patch"):
			if a.Name == node {
				return true, "", nil
			}
			return deny("can only modify its own Node object")
		}
	case "coordination.k8s.io/leases":
		if a.Namespace == "kube-node-lease" && a.Subresource == "" {
			switch {
			case a.Verb == "create":
				return true, "", nil // NodeRestriction checks the name in the body
			case a.Name == node && (a.Verb == "get" || a.Verb == "update" || a.Verb == "patch" || a.Verb == "delete"):
				return true, "", nil
			}
		}
		return deny("can only access its own Lease in kube-node-lease")
	case "/events", "events.k8s.io/events":
		if a.Verb == "create" || a.Verb == "update" || a.Verb == "patch" {
			return true, "", nil
		}
	case "/services", "/endpoints":
		if read {
			return true, "", nil
		}
	case "/secrets", "/configmaps", "/persistentvolumeclaims", "/persistentvolumes", "/serviceaccounts":
		if !(a.Verb == "get" && a.Subresource == "") && !(a.Resource == "serviceaccounts" && a.Subresource == "token" && a.Verb == "create") {
			break
		}
		refs, err := s.nodeReferences(ctx, node)
		if err != nil {
			return false, "", err
		}
		if refs[a.Resource][a.Namespace+"/"+a.Name] {
			return true, "", nil
		}
		return deny("has no pod that uses %s %s/%s", a.Resource, a.Namespace, a.Name)
	}
	return false, "", nil
}

// selectsField reports whether a field selector requires field=value.
func selectsField(sel, field, value string) bool {
	for _, term := range strings.Split(sel, ",") {
		t := strings.ReplaceAll(strings.TrimSpace(term), "==", "=")
		if t == field+"="+value {
			return true
		}
	}
	return false
}

func (s *Server) getPod(ctx context.Context, ns, name string) (*core.Pod, error) {
	k, _ := apis.ByResource("", "pods")
	obj, err := s.get(ctx, k, ns, name)
	if err != nil {
		return nil, err
	}
	return obj.(*core.Pod), nil
}

// nodeReferences lists what the pods bound to node use, by resource and
// "namespace/name" (persistent volumes: "/name").
func (s *Server) nodeReferences(ctx context.Context, node string) (map[string]map[string]bool, error) {
	k, _ := apis.ByResource("", "pods")
	f, err := parseFilter(k, url.Values{"fieldSelector": {"spec.nodeName=" + node}})
	if err != nil {
		return nil, err
	}
	pods, _, _, err := s.list(ctx, k, "", f, 0, "")
	if err != nil {
		return nil, err
	}
	refs := map[string]map[string]bool{}
	add := func(res, ns, name string) {
		if name == "" {
			return
		}
		if refs[res] == nil {
			refs[res] = map[string]bool{}
		}
		refs[res][ns+"/"+name] = true
	}
	pvcKind, _ := apis.ByResource("", "persistentvolumeclaims")
	for _, obj := range pods {
		pod := obj.(*core.Pod)
		podRefs(pod, func(res, name string) { add(res, pod.Namespace, name) })
		for _, v := range pod.Spec.Volumes {
			if v.PersistentVolumeClaim == nil {
				continue
			}
			if pvc, err := s.get(ctx, pvcKind, pod.Namespace, v.PersistentVolumeClaim.ClaimName); err == nil {
				add("persistentvolumes", "", pvc.(*core.PersistentVolumeClaim).Spec.VolumeName)
			}
		}
	}
	return refs, nil
}

// podRefs calls ref for every Secret, ConfigMap, PVC and ServiceAccount
// the pod uses (volumes, projections, env, envFrom, image pull secrets).
func podRefs(pod *core.Pod, ref func(resource, name string)) {
	ref("serviceaccounts", pod.Spec.ServiceAccountName)
	for _, s := range pod.Spec.ImagePullSecrets {
		ref("secrets", s.Name)
	}
	for _, v := range pod.Spec.Volumes {
		switch {
		case v.Secret != nil:
			ref("secrets", v.Secret.SecretName)
		case v.ConfigMap != nil:
			ref("configmaps", v.ConfigMap.Name)
		case v.PersistentVolumeClaim != nil:
			ref("persistentvolumeclaims", v.PersistentVolumeClaim.ClaimName)
		case v.Projected != nil:
			for _, src := range v.Projected.Sources {
				if src.Secret != nil {
					ref("secrets", src.Secret.Name)
				}
				if src.ConfigMap != nil {
					ref("configmaps", src.ConfigMap.Name)
				}
			}
		}
	}
	for _, c := range append(append([]core.Container(nil), pod.Spec.InitContainers...), pod.Spec.Containers...) {
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				ref("secrets", e.ValueFrom.SecretKeyRef.Name)
			}
			if e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil {
				ref("configmaps", e.ValueFrom.ConfigMapKeyRef.Name)
			}
		}
		for _, e := range c.EnvFrom {
			if e.SecretRef != nil {
				ref("secrets", e.SecretRef.Name)
			}
			if e.ConfigMapRef != nil {
				ref("configmaps", e.ConfigMapRef.Name)
			}
		}
	}
}

// admitNodeRequest is Kubernetes' NodeRestriction admission for what the
// Node authorizer cannot see in the path: a node creates only its own Node
// and its own Lease (the name is in the body).
func (s *Server) admitNodeRequest(r *http.Request, a *attributes) error {
	node, ok := nodeName(a.User)
	if !ok || a.Verb != "create" || a.Subresource != "" {
		return nil
	}
	if !(a.APIGroup == "" && a.Resource == "nodes") && !(a.APIGroup == "coordination.k8s.io" && a.Resource == "leases") {
		return nil
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	doc, _, err := toJSON(body, mediaType(r))
	if err != nil {
		return err
	}
	var obj struct {
		Metadata struct{ Name string } `json:"metadata"`
	}
	if err := json.Unmarshal(doc, &obj); err != nil {
		return apierrors.New(apierrors.ErrBadRequest, "decoding the body: %v", err)
	}
	if obj.Metadata.Name != node {
		return apierrors.New(apierrors.ErrForbidden, "node %q is not allowed to create %s %q: a node may only create its own", node, a.Resource, obj.Metadata.Name)
	}
	return nil
}
