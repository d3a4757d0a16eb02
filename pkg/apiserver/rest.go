package apiserver

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/field"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/store"
)

func resourceOf(k *apis.Kind, name string) apierrors.Resource {
	return apierrors.Resource{Group: k.Group, Kind: k.Resource, Name: name}
}

func notFound(k *apis.Kind, name string) error {
	return apierrors.NewNotFound(resourceOf(k, name), k.Resource)
}

func conflict(k *apis.Kind, name string) error {
	return apierrors.NewConflict(resourceOf(k, name), k.Resource,
		"the object has been modified; please apply your changes to the latest version and try again")
}

// mapStoreErr turns a store error about one object into the Status a
// Kubernetes client expects for it.
func mapStoreErr(k *apis.Kind, name string, err error) error {
	switch {
	case errors.Is(err, apierrors.ErrNotFound):
		return notFound(k, name)
	case errors.Is(err, apierrors.ErrAlreadyExists):
		return apierrors.NewAlreadyExists(resourceOf(k, name), k.Resource)
	case errors.Is(err, apierrors.ErrConflict):
		return conflict(k, name)
	}
	return err
}

// ---- create ----

func (s *Server) serveCreate(w http.ResponseWriter, r *http.Request, info *requestInfo) {
	k := info.Kind
	body, err := readBody(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	obj, warnings, err := decodeObject(r, k, body)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := s.setNamespace(k, obj, info.Namespace); err != nil {
		writeError(w, r, err)
		return
	}
	created, err := s.create(r.Context(), k, obj, isDryRun(r))
	writeWarnings(w, warnings)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeObject(w, r, http.StatusCreated, created)
}

// setNamespace puts the path's namespace into obj, refusing a body that
// names another one.
func (s *Server) setNamespace(k *apis.Kind, obj meta.Object, ns string) error {
	m := obj.GetObjectMeta()
	if !k.Namespaced {
		m.Namespace = ""
		return nil
	}
	if ns == "" {
		return apierrors.New(apierrors.ErrBadRequest, "%s are namespaced: create them under /namespaces/{namespace}/%s", k.Resource, k.Resource)
	}
	if m.Namespace != "" && m.Namespace != ns {
		return apierrors.New(apierrors.ErrBadRequest, "the namespace of the provided object (%s) does not match the namespace sent on the request (%s)", m.Namespace, ns)
	}
	m.Namespace = ns
	return nil
}

// create stores a new object: server-owned fields set, defaulted,
// validated and admitted first.
func (s *Server) create(ctx context.Context, k *apis.Kind, obj meta.Object, dryRun bool) (meta.Object, error) {
	m := obj.GetObjectMeta()
	if m.Name == "" && m.GenerateName != "" {
		m.Name = generateName(m.GenerateName)
	}
	m.UID = uuid.NewString()
	m.CreationTimestamp = meta.NewTime(s.now())
	m.ResourceVersion = ""
	m.DeletionTimestamp, m.DeletionGracePeriodSeconds = nil, nil
	m.Generation = 0
	if hasSpec(k) {
		m.Generation = 1
	}
	if k.HasSubresource("status") {
		resetField(obj, "Status") // status is written only through /status
	}
	setTypeMeta(k, obj)
	h := hooksFor(k)
	if h.prepareCreate != nil {
		h.prepareCreate(obj)
	}
	if err := s.admitServiceAccount(ctx, k, obj); err != nil {
		return nil, err
	}
	if k.Default != nil {
		k.Default(obj)
	}
	if k.Validate != nil {
		if errs := k.Validate(obj); len(errs) > 0 {
			return nil, apierrors.NewInvalid(apierrors.Resource{Group: k.Group, Kind: k.Kind, Name: m.Name}, errs)
		}
	}
	if err := s.admitCreate(ctx, k, obj); err != nil {
		return nil, err
	}
	if err := s.checkEscalation(ctx, k, nil, obj); err != nil {
		return nil, err
	}
	if dryRun {
		return obj, nil
	}
	undo, err := s.reserve(ctx, k, nil, obj)
	if err != nil {
		return nil, err
	}
	b, err := encodeForStore(obj)
	if err != nil {
		undo()
		return nil, err
	}
	rev, err := s.store.Create(ctx, key(k, m.Namespace, m.Name), b)
	if err != nil {
		undo()
		return nil, mapStoreErr(k, m.Name, err)
	}
	m.ResourceVersion = strconv.FormatInt(rev, 10)
	return obj, nil
}

// admitCreate refuses objects in a namespace that does not exist or is
// being deleted (Kubernetes' NamespaceLifecycle admission).
func (s *Server) admitCreate(ctx context.Context, k *apis.Kind, obj meta.Object) error {
	if !k.Namespaced {
		return nil
	}
	nsKind, _ := apis.ByResource("", "namespaces")
	m := obj.GetObjectMeta()
	kv, err := s.store.Get(ctx, key(nsKind, "", m.Namespace))
	if err != nil {
		return mapStoreErr(nsKind, m.Namespace, err)
	}
	ns, err := decodeStored(nsKind, kv)
	if err != nil {
		return err
	}
	if ns.GetObjectMeta().DeletionTimestamp != nil {
		return apierrors.New(apierrors.ErrForbidden, "%s %q is forbidden: unable to create new content in namespace %s because it is being terminated",
			k.Resource, m.Name, m.Namespace)
	}
	return nil
}

// generateName appends 5 random characters as Kubernetes does (from an
// alphabet without vowels, so no words are formed).
func generateName(base string) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	if len(base) > 58 {
		base = base[:58]
	}
	b := make([]byte, 5)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return base + string(b)
}

// ---- get ----

func (s *Server) serveGet(w http.ResponseWriter, r *http.Request, info *requestInfo) {
	obj, err := s.get(r.Context(), info.Kind, info.Namespace, info.Name)
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.writeObjects(w, r, info.Kind, obj, nil)
}

func (s *Server) get(ctx context.Context, k *apis.Kind, ns, name string) (meta.Object, error) {
	kv, err := s.store.Get(ctx, key(k, ns, name))
	if err != nil {
		return nil, mapStoreErr(k, name, err)
	}
	return decodeStored(k, kv)
}

// ---- update, patch, status ----

// mutateFunc proposes the new object from a fresh copy of the current one.
// It may run several times (on conflicts), so it must not keep state.
type mutateFunc func(cur meta.Object) (meta.Object, error)

func (s *Server) serveUpdate(w http.ResponseWriter, r *http.Request, info *requestInfo) {
	k := info.Kind
	if r.Method == http.MethodPatch && mediaType(r) == "application/apply-patch+yaml" && info.Subresource == "" {
		s.serveApply(w, r, info)
		return
	}
	body, err := readBody(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var warnings []string
	var mutate mutateFunc
	if r.Method == http.MethodPatch {
		mutate, err = s.patcher(r, info, body, &warnings)
	} else {
		mutate, err = s.replacer(r, info, body, &warnings)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	obj, err := s.update(r.Context(), k, info.Namespace, info.Name, info.Subresource, isDryRun(r), mutate)
	writeWarnings(w, warnings)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeObject(w, r, http.StatusOK, obj)
}

// replacer is PUT: the body is the new object.
func (s *Server) replacer(r *http.Request, info *requestInfo, body []byte, warnings *[]string) (mutateFunc, error) {
	doc, dups, err := toJSON(body, mediaType(r))
	if err != nil {
		return nil, err
	}
	first, ws, err := decodeDoc(r, info.Kind, doc, dups)
	if err != nil {
		return nil, err
	}
	*warnings = ws
	if n := first.GetObjectMeta().Name; n != "" && n != info.Name {
		return nil, apierrors.New(apierrors.ErrBadRequest, "the name of the object (%s) does not match the name on the URL (%s)", n, info.Name)
	}
	return func(cur meta.Object) (meta.Object, error) {
		obj, _, err := decodeDoc(r, info.Kind, doc, nil)
		if err != nil {
			return nil, err
		}
		m := obj.GetObjectMeta()
		if m.Name != "" && m.Name != info.Name {
			return nil, apierrors.New(apierrors.ErrBadRequest, "the name of the object (%s) does not match the name on the URL (%s)", m.Name, info.Name)
		}
		m.Name = info.Name
		if err := s.setNamespace(info.Kind, obj, info.Namespace); err != nil {
			return nil, err
		}
		return obj, nil
	}, nil
}

// update is the one read-modify-write path behind PUT, PATCH, /status,
// /scale and /binding. If the proposed object carries a resourceVersion, it
// must be the current one (optimistic concurrency: 409 otherwise); if not,
// the update is retried on conflicts until it applies to the latest state.
func (s *Server) update(ctx context.Context, k *apis.Kind, ns, name, sub string, dryRun bool, mutate mutateFunc) (meta.Object, error) {
	for {
		kv, err := s.store.Get(ctx, key(k, ns, name))
		if err != nil {
			return nil, mapStoreErr(k, name, err)
		}
		cur, err := decodeStored(k, kv)
		if err != nil {
			return nil, err
		}
		old, _ := decodeStored(k, kv) // a second copy: mutate may change cur
		next, err := mutate(cur)
		if err != nil {
			return nil, err
		}
		rv := next.GetObjectMeta().ResourceVersion
		if rv != "" && rv != old.GetObjectMeta().ResourceVersion {
			return nil, conflict(k, name)
		}
		// A uid in the body is a precondition, as in Kubernetes: an update
		// meant for an earlier object of the same name must not land on
		// this one.
		if uid := next.GetObjectMeta().UID; uid != "" && uid != old.GetObjectMeta().UID {
			return nil, apierrors.NewConflict(resourceOf(k, name), k.Resource,
				fmt.Sprintf("Precondition failed: UID in precondition: %s, UID in object meta: %s", uid, old.GetObjectMeta().UID))
		}
		next, err = s.prepareUpdate(k, old, next, sub)
		if err != nil {
			return nil, err
		}
		if err := s.checkEscalation(ctx, k, old, next); err != nil {
			return nil, err
		}
		if dryRun {
			return next, nil
		}
		undo, err := s.reserve(ctx, k, old, next)
		if err != nil {
			return nil, err
		}
		b, err := encodeForStore(next)
		if err != nil {
			undo()
			return nil, err
		}
		if string(b) == string(kv.Value) {
			undo()
			return old, nil // nothing changed: no write, no new resourceVersion
		}
		var res store.KV
		deleted := false
		if h := hooksFor(k); finalized(next) && (h.holdsDeletion == nil || !h.holdsDeletion(next)) {
			res, err = s.store.Delete(ctx, kv.Key, kv.ModRevision)
			deleted = true
		} else {
			res, err = s.store.Update(ctx, kv.Key, b, kv.ModRevision)
		}
		if err != nil {
			undo()
		}
		if errors.Is(err, apierrors.ErrConflict) && rv == "" {
			continue // someone else wrote first; redo on the fresh state
		}
		if err != nil {
			return nil, mapStoreErr(k, name, err)
		}
		if deleted {
			undo()
			s.release(ctx, k, old, nil)
		} else {
			s.release(ctx, k, old, next)
		}
		next.GetObjectMeta().ResourceVersion = strconv.FormatInt(res.ModRevision, 10)
		return next, nil
	}
}

// prepareUpdate merges what the client may change into the stored object:
// server-owned metadata always comes from old; a main-resource update keeps
// old's status, a status update keeps everything but the status; spec
// changes bump the generation. Then it defaults and validates.
func (s *Server) prepareUpdate(k *apis.Kind, old, next meta.Object, sub string) (meta.Object, error) {
	if sub == "status" {
		status := next
		next, _ = cloneObject(k, old)
		copyField(next, status, "Status")
	} else if k.HasSubresource("status") && sub == "" {
		copyField(next, old, "Status")
	}
	nm, om := next.GetObjectMeta(), old.GetObjectMeta()
	nm.Name, nm.Namespace, nm.UID = om.Name, om.Namespace, om.UID
	nm.CreationTimestamp = om.CreationTimestamp
	nm.DeletionTimestamp, nm.DeletionGracePeriodSeconds = om.DeletionTimestamp, om.DeletionGracePeriodSeconds
	nm.Generation = om.Generation
	if nm.GenerateName == "" {
		nm.GenerateName = om.GenerateName
	}
	setTypeMeta(k, next)
	if k.Default != nil {
		k.Default(next)
	}
	if h := hooksFor(k); h.keepOnUpdate != nil {
		h.keepOnUpdate(old, next)
	}
	if specChanged(old, next) {
		nm.Generation = om.Generation + 1
	}
	var errs field.ErrorList
	if k.Validate != nil {
		errs = append(errs, k.Validate(next)...)
	}
	if k.ValidateUpdate != nil && sub != "binding" {
		errs = append(errs, k.ValidateUpdate(next, old)...)
	}
	if len(errs) > 0 {
		return nil, apierrors.NewInvalid(apierrors.Resource{Group: k.Group, Kind: k.Kind, Name: nm.Name}, errs)
	}
	return next, nil
}

// finalized says whether an object marked for deletion has nothing left
// to wait for: no finalizers and no grace period.
func finalized(obj meta.Object) bool {
	m := obj.GetObjectMeta()
	return m.DeletionTimestamp != nil && len(m.Finalizers) == 0 &&
		(m.DeletionGracePeriodSeconds == nil || *m.DeletionGracePeriodSeconds == 0)
}

func cloneObject(k *apis.Kind, obj meta.Object) (meta.Object, error) {
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	out := k.New()
	return out, json.Unmarshal(b, out)
}

// ---- delete ----

func (s *Server) serveDelete(w http.ResponseWriter, r *http.Request, info *requestInfo) {
	opts, err := deleteOptions(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	obj, err := s.delete(r.Context(), info.Kind, info.Namespace, info.Name, opts)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeObject(w, r, http.StatusOK, obj)
}

// deleteOptions reads DeleteOptions from the body (JSON or YAML) and the
// query parameters, which win.
func deleteOptions(r *http.Request) (*meta.DeleteOptions, error) {
	opts := &meta.DeleteOptions{}
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	if len(body) > 0 {
		doc, _, err := toJSON(body, mediaType(r))
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(doc, opts); err != nil {
			return nil, apierrors.New(apierrors.ErrBadRequest, "invalid delete options: %v", err)
		}
	}
	q := r.URL.Query()
	if v := q.Get("gracePeriodSeconds"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, apierrors.New(apierrors.ErrBadRequest, "gracePeriodSeconds must be an integer, not %q", v)
		}
		opts.GracePeriodSeconds = &n
	}
	if v := q.Get("propagationPolicy"); v != "" {
		opts.PropagationPolicy = &v
	}
	if v := q.Get("orphanDependents"); v != "" {
		b := v == "true"
		opts.OrphanDependents = &b
	}
	opts.DryRun = append(opts.DryRun, q["dryRun"]...)
	if opts.GracePeriodSeconds != nil && *opts.GracePeriodSeconds < 0 {
		zero := int64(0)
		opts.GracePeriodSeconds = &zero
	}
	if p := opts.PropagationPolicy; p != nil {
		switch *p {
		case meta.DeletePropagationOrphan, meta.DeletePropagationBackground, meta.DeletePropagationForeground:
		default:
			return nil, apierrors.NewInvalid(apierrors.Resource{Kind: "DeleteOptions"}, field.ErrorList{field.NotSupported(field.NewPath("propagationPolicy"), *p,
				[]string{meta.DeletePropagationForeground, meta.DeletePropagationBackground, meta.DeletePropagationOrphan})})
		}
	}
	return opts, nil
}

// delete removes an object, or marks it for deletion when something must
// happen first: finalizers to run (including the orphan and foreground
// finalizers the propagation policy adds) or, for pods on a node, a grace
// period for the node agent to stop the containers.
func (s *Server) delete(ctx context.Context, k *apis.Kind, ns, name string, opts *meta.DeleteOptions) (meta.Object, error) {
	dryRun := contains(opts.DryRun, "All")
	for {
		kv, err := s.store.Get(ctx, key(k, ns, name))
		if err != nil {
			return nil, mapStoreErr(k, name, err)
		}
		obj, err := decodeStored(k, kv)
		if err != nil {
			return nil, err
		}
		m := obj.GetObjectMeta()
		if err := checkPreconditions(k, obj, opts.Preconditions); err != nil {
			return nil, err
		}
		grace := int64(0)
		h := hooksFor(k)
		if h.gracePeriod != nil {
			grace = h.gracePeriod(obj, opts.GracePeriodSeconds)
		}
		addPropagationFinalizer(m, opts)
		keep := len(m.Finalizers) > 0 || grace > 0
		if h.beginDelete != nil && h.beginDelete(obj) {
			keep = true
		}
		if dryRun {
			return obj, nil
		}
		var res store.KV
		if keep {
			now := meta.NewTime(s.now())
			if m.DeletionTimestamp == nil || m.DeletionGracePeriodSeconds == nil || grace < *m.DeletionGracePeriodSeconds {
				t := meta.NewTime(now.Add(time.Duration(grace) * time.Second))
				m.DeletionTimestamp, m.DeletionGracePeriodSeconds = &t, &grace
			}
			b, err := encodeForStore(obj)
			if err != nil {
				return nil, err
			}
			if string(b) == string(kv.Value) {
				return obj, nil
			}
			res, err = s.store.Update(ctx, kv.Key, b, kv.ModRevision)
			if err == nil {
				m.ResourceVersion = strconv.FormatInt(res.ModRevision, 10)
				return obj, nil
			}
		} else {
			res, err = s.store.Delete(ctx, kv.Key, kv.ModRevision)
			if err == nil {
				s.release(ctx, k, obj, nil)
				return obj, nil
			}
		}
		if !errors.Is(err, apierrors.ErrConflict) {
			return nil, mapStoreErr(k, name, err)
		}
	}
}

func checkPreconditions(k *apis.Kind, obj meta.Object, p *meta.Preconditions) error {
	if p == nil {
		return nil
	}
	m := obj.GetObjectMeta()
	if p.UID != nil && *p.UID != m.UID {
		return apierrors.NewConflict(resourceOf(k, m.Name), k.Resource,
			"Precondition failed: UID in precondition: "+*p.UID+", UID in object meta: "+m.UID)
	}
	if p.ResourceVersion != nil && *p.ResourceVersion != m.ResourceVersion {
		return apierrors.NewConflict(resourceOf(k, m.Name), k.Resource,
			"Precondition failed: ResourceVersion in precondition: "+*p.ResourceVersion+", ResourceVersion in object meta: "+m.ResourceVersion)
	}
	return nil
}

// addPropagationFinalizer turns the propagation policy into the finalizer
// the garbage collector acts on, as Kubernetes does.
func addPropagationFinalizer(m *meta.ObjectMeta, opts *meta.DeleteOptions) {
	policy := ""
	if opts.PropagationPolicy != nil {
		policy = *opts.PropagationPolicy
	} else if opts.OrphanDependents != nil && *opts.OrphanDependents {
		policy = meta.DeletePropagationOrphan
	}
	add := func(f string) {
		if !contains(m.Finalizers, f) {
			m.Finalizers = append(m.Finalizers, f)
		}
	}
	switch policy {
	case meta.DeletePropagationOrphan:
		add(meta.FinalizerOrphanDependents)
	case meta.DeletePropagationForeground:
		add(meta.FinalizerDeleteDependents)
	}
}

func (s *Server) serveDeleteCollection(w http.ResponseWriter, r *http.Request, info *requestInfo) {
	opts, err := deleteOptions(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	f, err := parseFilter(info.Kind, r.URL.Query())
	if err != nil {
		writeError(w, r, err)
		return
	}
	items, rv, _, err := s.list(r.Context(), info.Kind, info.Namespace, f, 0, "")
	if err != nil {
		writeError(w, r, err)
		return
	}
	deleted := make([]meta.Object, 0, len(items))
	for _, it := range items {
		m := it.GetObjectMeta()
		obj, err := s.delete(r.Context(), info.Kind, m.Namespace, m.Name, opts)
		if errors.Is(err, apierrors.ErrNotFound) {
			continue
		}
		if err != nil {
			writeError(w, r, err)
			return
		}
		deleted = append(deleted, obj)
	}
	writeObject(w, r, http.StatusOK, listObject(info.Kind, deleted, rv, ""))
}
