package apiserver

import (
	"bytes"
	"encoding/json"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"minik8s/pkg/apis/apierrors"
)

// Some kubectl commands send protobuf and nothing else: the generators
// (`kubectl create deployment|configmap|secret|namespace|service|job|
// cronjob|role|rolebinding|serviceaccount...`, `kubectl expose`) and the
// authorization reviews (`kubectl auth can-i`). minik8s speaks JSON
// inside; at this one boundary it decodes Kubernetes' protobuf with the
// generated code of k8s.io/api, the only place that knows the field
// numbers, and turns the object into JSON for the usual path (defaulting,
// validation, strict field checks). Nothing is ever answered in protobuf:
// kubectl accepts JSON back.

// protoMagic starts Kubernetes' protobuf envelope (runtime.Unknown).
var protoMagic = []byte("k8s\x00")

// protoMessage is what the generated k8s.io/api types implement.
type protoMessage interface{ Unmarshal([]byte) error }

// protoKinds are the kinds kubectl sends as protobuf, by apiVersion/kind.
var protoKinds = map[string]func() protoMessage{
	"v1/Namespace":                      func() protoMessage { return &corev1.Namespace{} },
	"v1/ConfigMap":                      func() protoMessage { return &corev1.ConfigMap{} },
	"v1/Secret":                         func() protoMessage { return &corev1.Secret{} },
	"v1/Service":                        func() protoMessage { return &corev1.Service{} },
	"v1/ServiceAccount":                 func() protoMessage { return &corev1.ServiceAccount{} },
	"v1/Pod":                            func() protoMessage { return &corev1.Pod{} },
	"apps/v1/Deployment":                func() protoMessage { return &appsv1.Deployment{} },
	"apps/v1/StatefulSet":               func() protoMessage { return &appsv1.StatefulSet{} },
	"apps/v1/DaemonSet":                 func() protoMessage { return &appsv1.DaemonSet{} },
	"batch/v1/Job":                      func() protoMessage { return &batchv1.Job{} },
	"batch/v1/CronJob":                  func() protoMessage { return &batchv1.CronJob{} },
	"rbac.authorization.k8s.io/v1/Role": func() protoMessage { return &rbacv1.Role{} },
	"rbac.authorization.k8s.io/v1/RoleBinding":        func() protoMessage { return &rbacv1.RoleBinding{} },
	"rbac.authorization.k8s.io/v1/ClusterRole":        func() protoMessage { return &rbacv1.ClusterRole{} },
	"rbac.authorization.k8s.io/v1/ClusterRoleBinding": func() protoMessage { return &rbacv1.ClusterRoleBinding{} },
	"authentication.k8s.io/v1/TokenRequest":           func() protoMessage { return &authenticationv1.TokenRequest{} },
	"authorization.k8s.io/v1/SelfSubjectAccessReview": func() protoMessage { return &authorizationv1.SelfSubjectAccessReview{} },
	"authorization.k8s.io/v1/SelfSubjectRulesReview":  func() protoMessage { return &authorizationv1.SelfSubjectRulesReview{} },
}

// protobufToJSON turns a Kubernetes protobuf body into the same object in
// JSON. A kind minik8s does not take in protobuf gets 415 with the JSON
// way to send it.
func protobufToJSON(body []byte) ([]byte, error) {
	if !bytes.HasPrefix(body, protoMagic) {
		return nil, apierrors.New(apierrors.ErrBadRequest, "the protobuf body does not start with Kubernetes' envelope (k8s\\x00)")
	}
	var u runtime.Unknown
	if err := u.Unmarshal(body[len(protoMagic):]); err != nil {
		return nil, apierrors.New(apierrors.ErrBadRequest, "decoding the protobuf envelope: %v", err)
	}
	newObj, ok := protoKinds[u.APIVersion+"/"+u.Kind]
	if !ok {
		return nil, apierrors.New(apierrors.ErrUnsupportedMedia,
			"minik8s does not decode %s %s in protobuf - send it as JSON or YAML (kubectl apply -f)", u.APIVersion, u.Kind)
	}
	obj := newObj()
	if err := obj.Unmarshal(u.Raw); err != nil {
		return nil, apierrors.New(apierrors.ErrBadRequest, "decoding the %s in protobuf: %v", u.Kind, err)
	}
	// The envelope, not the message, carries apiVersion and kind.
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	m["apiVersion"], m["kind"] = u.APIVersion, u.Kind
	dropNulls(m)
	return json.Marshal(m)
}

// dropNulls removes the null fields Go's encoding of the generated types
// writes (metadata.creationTimestamp: null and the like): they mean
// "unset" and would only trip strict decoding of server-owned fields.
func dropNulls(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e == nil {
				delete(x, k)
				continue
			}
			dropNulls(e)
		}
	case []any:
		for _, e := range x {
			dropNulls(e)
		}
	}
}
