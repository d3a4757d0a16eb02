package apiserver

import (
	"encoding/json"
	"net/http"
	"reflect"

	jsonpatch "github.com/evanphx/json-patch/v5"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/autoscaling"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/field"
	"minik8s/pkg/apis/labels"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/apiserver/strategicpatch"
)

// ---- scale: the replicas of a Deployment, ReplicaSet or StatefulSet ----

// scaleOf reads the Scale view of a scalable object by reflection on its
// spec.replicas, spec.selector and status.replicas.
func scaleOf(k *apis.Kind, obj meta.Object) *autoscaling.Scale {
	m := obj.GetObjectMeta()
	sc := &autoscaling.Scale{
		TypeMeta: meta.TypeMeta{APIVersion: "autoscaling/v1", Kind: "Scale"},
		ObjectMeta: meta.ObjectMeta{Name: m.Name, Namespace: m.Namespace, UID: m.UID,
			ResourceVersion: m.ResourceVersion, CreationTimestamp: m.CreationTimestamp},
	}
	spec, _ := structField(obj, "Spec")
	if r := spec.FieldByName("Replicas"); r.IsValid() && !r.IsNil() {
		sc.Spec.Replicas = int32(r.Elem().Int())
	}
	if s := spec.FieldByName("Selector"); s.IsValid() && !s.IsNil() {
		if sel, err := labels.SelectorFromLabelSelector(s.Interface().(*meta.LabelSelector)); err == nil {
			sc.Status.Selector = sel.String()
		}
	}
	if st, ok := structField(obj, "Status"); ok {
		if r := st.FieldByName("Replicas"); r.IsValid() {
			sc.Status.Replicas = int32(r.Int())
		}
	}
	return sc
}

func setReplicas(obj meta.Object, n int32) {
	spec, _ := structField(obj, "Spec")
	r := spec.FieldByName("Replicas")
	r.Set(reflect.ValueOf(&n))
}

// serveScale answers GET, PUT and PATCH on .../scale. Writes change only
// spec.replicas; a resourceVersion in the Scale is a precondition.
func (s *Server) serveScale(w http.ResponseWriter, r *http.Request, info *requestInfo) {
	k := info.Kind
	if info.Verb == "get" {
		obj, err := s.get(r.Context(), k, info.Namespace, info.Name)
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeObject(w, r, http.StatusOK, scaleOf(k, obj))
		return
	}
	if info.Verb != "update" && info.Verb != "patch" {
		writeError(w, r, apierrors.New(apierrors.ErrMethodNotAllowed, "%s is not allowed on %s/scale", r.Method, k.Resource))
		return
	}
	body, err := readBody(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	media := mediaType(r)
	doc, _, err := toJSON(body, media)
	if err != nil {
		writeError(w, r, err)
		return
	}
	obj, err := s.update(r.Context(), k, info.Namespace, info.Name, "scale", isDryRun(r), func(cur meta.Object) (meta.Object, error) {
		want := scaleOf(k, cur)
		if r.Method == http.MethodPatch {
			curJSON, _ := json.Marshal(want)
			patched, err := applyPatch(media, curJSON, doc)
			if err != nil {
				return nil, err
			}
			doc := patched
			want = &autoscaling.Scale{}
			if err := json.Unmarshal(doc, want); err != nil {
				return nil, apierrors.New(apierrors.ErrBadRequest, "the patched Scale is not valid: %v", err)
			}
		} else {
			want = &autoscaling.Scale{}
			if err := json.Unmarshal(doc, want); err != nil {
				return nil, apierrors.New(apierrors.ErrBadRequest, "the body is not a valid Scale: %v", err)
			}
		}
		if want.Spec.Replicas < 0 {
			return nil, apierrors.NewInvalid(apierrors.Resource{Group: "autoscaling", Kind: "Scale", Name: info.Name},
				field.ErrorList{field.Invalid(field.NewPath("spec", "replicas"), want.Spec.Replicas, "must be greater than or equal to 0")})
		}
		cur.GetObjectMeta().ResourceVersion = want.ResourceVersion
		setReplicas(cur, want.Spec.Replicas)
		return cur, nil
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeObject(w, r, http.StatusOK, scaleOf(k, obj))
}

// applyPatch applies a merge patch or a JSON patch to a JSON document.
func applyPatch(media string, doc, patch []byte) ([]byte, error) {
	switch media {
	case "application/json-patch+json":
		p, err := jsonpatch.DecodePatch(patch)
		if err != nil {
			return nil, apierrors.New(apierrors.ErrBadRequest, "invalid JSON patch: %v", err)
		}
		out, err := p.Apply(doc)
		if err != nil {
			return nil, apierrors.New(apierrors.ErrInvalid, "the JSON patch could not be applied: %v", err)
		}
		return out, nil
	case "application/strategic-merge-patch+json":
		out, err := strategicpatch.Apply(doc, patch, strategicpatch.KubernetesSchema{})
		if err != nil {
			return nil, apierrors.New(apierrors.ErrBadRequest, "invalid strategic merge patch: %v", err)
		}
		return out, nil
	case "application/merge-patch+json":
		out, err := jsonpatch.MergePatch(doc, patch)
		if err != nil {
			return nil, apierrors.New(apierrors.ErrBadRequest, "invalid merge patch: %v", err)
		}
		return out, nil
	}
	return nil, apierrors.New(apierrors.ErrUnsupportedMedia,
		"PATCH needs a Content-Type of application/merge-patch+json, application/json-patch+json or application/strategic-merge-patch+json, not %q", media)
}

// ---- binding: the scheduler's write of a pod's node ----

// serveBinding sets spec.nodeName of a pod that has none, once: a second
// binding is a 409, so two schedulers can never place one pod twice.
func (s *Server) serveBinding(w http.ResponseWriter, r *http.Request, info *requestInfo) {
	if info.Verb != "create" {
		writeError(w, r, apierrors.New(apierrors.ErrMethodNotAllowed, "bindings are created with POST"))
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
	var b core.Binding
	if err := json.Unmarshal(doc, &b); err != nil {
		writeError(w, r, apierrors.New(apierrors.ErrBadRequest, "the body is not a valid Binding: %v", err))
		return
	}
	if b.Target.Name == "" {
		writeError(w, r, apierrors.NewInvalid(apierrors.Resource{Kind: "Binding", Name: info.Name},
			field.ErrorList{field.Required(field.NewPath("target", "name"), "the node to bind to")}))
		return
	}
	if b.Name != "" && b.Name != info.Name {
		writeError(w, r, apierrors.New(apierrors.ErrBadRequest, "the name of the binding (%s) does not match the pod in the URL (%s)", b.Name, info.Name))
		return
	}
	_, err = s.update(r.Context(), info.Kind, info.Namespace, info.Name, "binding", isDryRun(r), func(cur meta.Object) (meta.Object, error) {
		pod := cur.(*core.Pod)
		if pod.DeletionTimestamp != nil {
			return nil, apierrors.NewConflict(resourceOf(info.Kind, pod.Name), "pods", "pod is being deleted, cannot be assigned to a host")
		}
		if pod.Spec.NodeName != "" {
			return nil, apierrors.NewConflict(resourceOf(info.Kind, pod.Name), "pods",
				"pod "+pod.Name+" is already assigned to node \""+pod.Spec.NodeName+"\"")
		}
		if b.UID != "" && b.UID != pod.UID {
			return nil, apierrors.NewConflict(resourceOf(info.Kind, pod.Name), "pods", "the binding's uid does not match the pod's")
		}
		pod.Spec.NodeName = b.Target.Name
		setPodCondition(&pod.Status, core.PodCondition{Type: core.PodScheduled, Status: core.ConditionTrue,
			LastTransitionTime: meta.NewTime(s.now())})
		// The binding is the status write that says "scheduled": let it
		// through the status-preserving rule of a main-resource update.
		pod.ResourceVersion = ""
		return pod, nil
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeObject(w, r, http.StatusCreated, &meta.Status{
		TypeMeta: meta.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: meta.StatusSuccess, Code: http.StatusCreated,
	})
}

func setPodCondition(st *core.PodStatus, c core.PodCondition) {
	for i := range st.Conditions {
		if st.Conditions[i].Type == c.Type {
			st.Conditions[i] = c
			return
		}
	}
	st.Conditions = append(st.Conditions, c)
}

// serveSubresourceGet answers GETs of subresources served elsewhere.
func (s *Server) serveSubresourceGet(w http.ResponseWriter, r *http.Request, info *requestInfo) {
	if info.Subresource == "log" {
		s.serveLogs(w, r, info)
		return
	}
	writeError(w, r, apierrors.New(apierrors.ErrMethodNotAllowed, "GET is not supported on %s/%s", info.Kind.Resource, info.Subresource))
}
