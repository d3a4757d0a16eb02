package apiserver

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"minik8s/pkg/apis"
	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
)

const podJSON = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","labels":{"app":"web"}},
 "spec":{"containers":[{"name":"c","image":"busybox:1.36"}]}}`

func TestCreateGetListDelete(t *testing.T) {
	s := newTestServer(t)
	resp := s.do(t, "POST", "/api/v1/namespaces/default/pods", "application/json", podJSON)
	if resp.code != http.StatusCreated {
		t.Fatalf("create: got %d %s; want 201", resp.code, resp.body)
	}
	var pod core.Pod
	resp.object(t, &pod)
	if pod.UID == "" || pod.ResourceVersion == "" || pod.CreationTimestamp.IsZero() {
		t.Errorf("server-owned fields not set: uid=%q rv=%q created=%v", pod.UID, pod.ResourceVersion, pod.CreationTimestamp)
	}
	if pod.Spec.RestartPolicy != "Always" || pod.Status.Phase != core.PodPending {
		t.Errorf("defaults: restartPolicy=%q phase=%q; want Always, Pending", pod.Spec.RestartPolicy, pod.Status.Phase)
	}
	if pod.Generation != 1 {
		t.Errorf("generation: got %d; want 1", pod.Generation)
	}
	resp = s.do(t, "GET", "/api/v1/namespaces/default/pods/web", "", "")
	var got core.Pod
	resp.object(t, &got)
	if got.UID != pod.UID || got.ResourceVersion != pod.ResourceVersion {
		t.Errorf("get: got uid %s rv %s; want %s %s", got.UID, got.ResourceVersion, pod.UID, pod.ResourceVersion)
	}
	resp = s.do(t, "GET", "/api/v1/namespaces/default/pods", "", "")
	var list core.PodList
	resp.object(t, &list)
	if list.Kind != "PodList" || len(list.Items) != 1 || list.ResourceVersion == "" {
		t.Errorf("list: got kind %q, %d items, rv %q; want PodList, 1, a revision", list.Kind, len(list.Items), list.ResourceVersion)
	}
	resp = s.do(t, "POST", "/api/v1/namespaces/default/pods", "application/json", podJSON)
	if st := resp.status(t); resp.code != 409 || st.Reason != meta.ReasonAlreadyExists || st.Message != `pods "web" already exists` {
		t.Errorf("second create: got %d %q %q; want 409 AlreadyExists `pods \"web\" already exists`", resp.code, st.Reason, st.Message)
	}
	// An unscheduled pod has nothing to wait for: it goes at once.
	resp = s.do(t, "DELETE", "/api/v1/namespaces/default/pods/web", "", "")
	if resp.code != 200 {
		t.Fatalf("delete: got %d %s", resp.code, resp.body)
	}
	resp = s.do(t, "GET", "/api/v1/namespaces/default/pods/web", "", "")
	if st := resp.status(t); resp.code != 404 || st.Message != `pods "web" not found` {
		t.Errorf("get after delete: got %d %q; want 404 `pods \"web\" not found`", resp.code, st.Message)
	}
}

// TestUpdateWithAnotherObjectsUIDIsAConflict: a PUT carrying the uid of
// an earlier object of the same name (deleted and created again since) is
// refused with 409 and changes nothing, as in Kubernetes, even without a
// resourceVersion.
func TestUpdateWithAnotherObjectsUIDIsAConflict(t *testing.T) {
	s := newTestServer(t)
	ctx := context.Background()
	cm := &core.ConfigMap{ObjectMeta: meta.ObjectMeta{Name: "c", Namespace: "default"}, Data: map[string]string{"v": "first"}}
	if err := s.client.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	firstUID := cm.UID
	cmKind, _ := apis.ByKind("", "ConfigMap")
	if err := s.client.Delete(ctx, cmKind, "default", "c", nil); err != nil {
		t.Fatal(err)
	}
	second := &core.ConfigMap{ObjectMeta: meta.ObjectMeta{Name: "c", Namespace: "default"}, Data: map[string]string{"v": "second"}}
	if err := s.client.Create(ctx, second); err != nil {
		t.Fatal(err)
	}
	late := &core.ConfigMap{ObjectMeta: meta.ObjectMeta{Name: "c", Namespace: "default", UID: firstUID}, Data: map[string]string{"v": "late"}}
	err := s.client.Update(ctx, late)
	var se *apierrors.StatusError
	if !errors.As(err, &se) || se.Status.Code != 409 || !strings.Contains(se.Status.Message, "Precondition failed: UID in precondition: "+firstUID) {
		t.Fatalf("update with the first object's uid: %v; want 409 Precondition failed", err)
	}
	var now core.ConfigMap
	if err := s.client.Get(ctx, "default", "c", &now); err != nil || now.Data["v"] != "second" {
		t.Errorf("after the refused update: %v %v; want the second object untouched", now.Data, err)
	}
	// Its own uid (or none) is fine.
	now.Data["v"] = "updated"
	if err := s.client.Update(ctx, &now); err != nil {
		t.Errorf("update with the right uid: %v", err)
	}
}

// TestOptimisticConcurrency: 32 clients increment one counter with
// read-modify-write PUTs. Every stale write must get a 409 Status and
// change nothing, so the counter ends equal to the number of successes.
func TestOptimisticConcurrency(t *testing.T) {
	s := newTestServer(t)
	ctx := context.Background()
	cm := &core.ConfigMap{ObjectMeta: meta.ObjectMeta{Name: "counter", Namespace: "default"}, Data: map[string]string{"n": "0"}}
	if err := s.client.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	const clients, attempts = 32, 20
	var ok, conflicts atomic.Int64
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < attempts; i++ {
				var cur core.ConfigMap
				if err := s.client.Get(ctx, "default", "counter", &cur); err != nil {
					t.Error(err)
					return
				}
				n, _ := strconv.Atoi(cur.Data["n"])
				cur.Data["n"] = strconv.Itoa(n + 1)
				err := s.client.Update(ctx, &cur)
				var se *apierrors.StatusError
				switch {
				case err == nil:
					ok.Add(1)
				case errors.As(err, &se) && se.Status.Code == 409 && se.Status.Reason == meta.ReasonConflict:
					conflicts.Add(1)
				default:
					t.Errorf("update: got %v; want success or a 409 Conflict Status", err)
				}
			}
		}()
	}
	wg.Wait()
	var final core.ConfigMap
	if err := s.client.Get(ctx, "default", "counter", &final); err != nil {
		t.Fatal(err)
	}
	if got := final.Data["n"]; got != strconv.FormatInt(ok.Load(), 10) {
		t.Errorf("counter: got %s; want %d (successful PUTs), %d conflicts", got, ok.Load(), conflicts.Load())
	}
	if ok.Load()+conflicts.Load() != clients*attempts {
		t.Errorf("successes %d + conflicts %d != %d attempts", ok.Load(), conflicts.Load(), clients*attempts)
	}
	if conflicts.Load() == 0 {
		t.Errorf("no conflicts among %d concurrent writers: the test did not exercise concurrency", clients)
	}
}

func TestGenerationCountsSpecChangesOnly(t *testing.T) {
	s := newTestServer(t)
	dep := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"selector":{"matchLabels":{"app":"d"}},
	 "template":{"metadata":{"labels":{"app":"d"}},"spec":{"containers":[{"name":"c","image":"img:1"}]}}}}`
	resp := s.do(t, "POST", "/apis/apps/v1/namespaces/default/deployments", "application/json", dep)
	if resp.code != 201 {
		t.Fatalf("create: %d %s", resp.code, resp.body)
	}
	gen := func() int64 {
		var d struct {
			Metadata meta.ObjectMeta `json:"metadata"`
		}
		s.do(t, "GET", "/apis/apps/v1/namespaces/default/deployments/d", "", "").object(t, &d)
		return d.Metadata.Generation
	}
	s.do(t, "PATCH", "/apis/apps/v1/namespaces/default/deployments/d", "application/merge-patch+json", `{"metadata":{"labels":{"x":"y"}}}`)
	if g := gen(); g != 1 {
		t.Errorf("after a label change: generation %d; want 1", g)
	}
	s.do(t, "PATCH", "/apis/apps/v1/namespaces/default/deployments/d", "application/merge-patch+json", `{"spec":{"replicas":3}}`)
	if g := gen(); g != 2 {
		t.Errorf("after a spec change: generation %d; want 2", g)
	}
	// The main resource ignores status; /status changes only status.
	s.do(t, "PATCH", "/apis/apps/v1/namespaces/default/deployments/d", "application/merge-patch+json", `{"status":{"replicas":7}}`)
	resp = s.do(t, "PATCH", "/apis/apps/v1/namespaces/default/deployments/d/status", "application/merge-patch+json",
		`{"spec":{"replicas":9},"status":{"observedGeneration":2}}`)
	var d struct {
		Spec   struct{ Replicas int32 }
		Status struct {
			Replicas           int32
			ObservedGeneration int64
		}
	}
	resp.object(t, &d)
	if d.Spec.Replicas != 3 || d.Status.Replicas != 0 || d.Status.ObservedGeneration != 2 {
		t.Errorf("got replicas %d, status.replicas %d, observedGeneration %d; want 3, 0, 2", d.Spec.Replicas, d.Status.Replicas, d.Status.ObservedGeneration)
	}
	if g := gen(); g != 2 {
		t.Errorf("after status writes: generation %d; want 2", g)
	}
}

func TestScaleSubresource(t *testing.T) {
	s := newTestServer(t)
	rs := `{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"r"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"r"}},
	 "template":{"metadata":{"labels":{"app":"r"}},"spec":{"containers":[{"name":"c","image":"img:1"}]}}}}`
	if resp := s.do(t, "POST", "/apis/apps/v1/namespaces/default/replicasets", "application/json", rs); resp.code != 201 {
		t.Fatalf("create: %d %s", resp.code, resp.body)
	}
	resp := s.do(t, "PATCH", "/apis/apps/v1/namespaces/default/replicasets/r/scale", "application/merge-patch+json", `{"spec":{"replicas":5}}`)
	var sc struct {
		Kind   string
		Spec   struct{ Replicas int32 }
		Status struct {
			Selector string
		}
	}
	resp.object(t, &sc)
	if resp.code != 200 || sc.Kind != "Scale" || sc.Spec.Replicas != 5 || sc.Status.Selector != "app=r" {
		t.Errorf("scale: got %d %+v; want 200 Scale replicas 5 selector app=r", resp.code, sc)
	}
	// PUT with no Content-Type, as kubectl scale --current-replicas sends it.
	resp = s.do(t, "PUT", "/apis/apps/v1/namespaces/default/replicasets/r/scale", "", `{"kind":"Scale","apiVersion":"autoscaling/v1","metadata":{"name":"r","resourceVersion":"1"},"spec":{"replicas":1}}`)
	if resp.code != 409 {
		t.Errorf("scale PUT with a stale resourceVersion: got %d; want 409", resp.code)
	}
}

func TestBindingOnce(t *testing.T) {
	s := newTestServer(t)
	s.do(t, "POST", "/api/v1/namespaces/default/pods", "application/json", podJSON)
	bind := `{"apiVersion":"v1","kind":"Binding","metadata":{"name":"web"},"target":{"kind":"Node","name":"n1"}}`
	if resp := s.do(t, "POST", "/api/v1/namespaces/default/pods/web/binding", "application/json", bind); resp.code != 201 {
		t.Fatalf("bind: got %d %s; want 201", resp.code, resp.body)
	}
	var pod core.Pod
	s.do(t, "GET", "/api/v1/namespaces/default/pods/web", "", "").object(t, &pod)
	if pod.Spec.NodeName != "n1" || len(pod.Status.Conditions) == 0 || pod.Status.Conditions[0].Type != core.PodScheduled {
		t.Errorf("after binding: nodeName %q conditions %+v; want n1 with PodScheduled", pod.Spec.NodeName, pod.Status.Conditions)
	}
	resp := s.do(t, "POST", "/api/v1/namespaces/default/pods/web/binding", "application/json", strings.Replace(bind, "n1", "n2", 1))
	if st := resp.status(t); resp.code != 409 || !strings.Contains(st.Message, `already assigned to node "n1"`) {
		t.Errorf("second binding: got %d %q; want 409 naming n1", resp.code, st.Message)
	}
}

func TestGracefulPodDeletion(t *testing.T) {
	s := newTestServer(t)
	s.do(t, "POST", "/api/v1/namespaces/default/pods", "application/json", podJSON)
	s.do(t, "POST", "/api/v1/namespaces/default/pods/web/binding", "application/json", `{"target":{"name":"n1"}}`)
	resp := s.do(t, "DELETE", "/api/v1/namespaces/default/pods/web", "application/json", `{"gracePeriodSeconds":20}`)
	var pod core.Pod
	resp.object(t, &pod)
	if resp.code != 200 || pod.DeletionTimestamp == nil || pod.DeletionGracePeriodSeconds == nil || *pod.DeletionGracePeriodSeconds != 20 {
		t.Fatalf("graceful delete: got %d %s; want the pod marked with a 20s grace period", resp.code, resp.body)
	}
	if resp := s.do(t, "GET", "/api/v1/namespaces/default/pods/web", "", ""); resp.code != 200 {
		t.Fatalf("a bound pod must stay until its node agent confirms; got %d", resp.code)
	}
	// The node agent confirms with grace period 0.
	if resp := s.do(t, "DELETE", "/api/v1/namespaces/default/pods/web?gracePeriodSeconds=0", "", ""); resp.code != 200 {
		t.Fatalf("final delete: %d %s", resp.code, resp.body)
	}
	if resp := s.do(t, "GET", "/api/v1/namespaces/default/pods/web", "", ""); resp.code != 404 {
		t.Errorf("after the final delete: got %d; want 404", resp.code)
	}
}

func TestFinalizersHoldDeletion(t *testing.T) {
	s := newTestServer(t)
	cm := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"f","finalizers":["example.com/wait"]}}`
	s.do(t, "POST", "/api/v1/namespaces/default/configmaps", "application/json", cm)
	s.do(t, "DELETE", "/api/v1/namespaces/default/configmaps/f", "", "")
	var got core.ConfigMap
	resp := s.do(t, "GET", "/api/v1/namespaces/default/configmaps/f", "", "")
	resp.object(t, &got)
	if resp.code != 200 || got.DeletionTimestamp == nil {
		t.Fatalf("an object with finalizers must stay, marked; got %d %s", resp.code, resp.body)
	}
	s.do(t, "PATCH", "/api/v1/namespaces/default/configmaps/f", "application/merge-patch+json", `{"metadata":{"finalizers":null}}`)
	if resp := s.do(t, "GET", "/api/v1/namespaces/default/configmaps/f", "", ""); resp.code != 404 {
		t.Errorf("after removing the last finalizer: got %d; want 404", resp.code)
	}
}

func TestNamespaceLifecycle(t *testing.T) {
	s := newTestServer(t)
	resp := s.do(t, "POST", "/api/v1/namespaces/nope/configmaps", "application/json", `{"metadata":{"name":"x"}}`)
	if st := resp.status(t); resp.code != 404 || st.Message != `namespaces "nope" not found` {
		t.Errorf("create in a missing namespace: got %d %q; want 404 namespaces \"nope\" not found", resp.code, st.Message)
	}
	s.do(t, "POST", "/api/v1/namespaces", "application/json", `{"metadata":{"name":"team"}}`)
	resp = s.do(t, "DELETE", "/api/v1/namespaces/team", "", "")
	var ns core.Namespace
	resp.object(t, &ns)
	if ns.Status.Phase != core.NamespaceTerminating {
		t.Errorf("deleted namespace phase: got %q; want Terminating", ns.Status.Phase)
	}
	resp = s.do(t, "POST", "/api/v1/namespaces/team/configmaps", "application/json", `{"metadata":{"name":"x"}}`)
	if resp.code != 403 {
		t.Errorf("create in a terminating namespace: got %d %s; want 403", resp.code, resp.body)
	}
	for _, name := range systemNamespaces {
		if resp := s.do(t, "GET", "/api/v1/namespaces/"+name, "", ""); resp.code != 200 {
			t.Errorf("namespace %s: got %d; want it to exist from the start", name, resp.code)
		}
	}
}

func TestSelectorsAndPaging(t *testing.T) {
	s := newTestServer(t)
	for i := 0; i < 25; i++ {
		tier := "front"
		if i%2 == 1 {
			tier = "back"
		}
		body := `{"metadata":{"name":"cm` + strconv.Itoa(i) + `","labels":{"tier":"` + tier + `"}}}`
		if resp := s.do(t, "POST", "/api/v1/namespaces/default/configmaps", "application/json", body); resp.code != 201 {
			t.Fatalf("create: %d %s", resp.code, resp.body)
		}
	}
	count := func(query string) (n int, pages int) {
		cont := ""
		for {
			q := query
			if cont != "" {
				q += "&continue=" + cont
			}
			var l core.ConfigMapList
			resp := s.do(t, "GET", "/api/v1/namespaces/default/configmaps?"+q, "", "")
			if resp.code != 200 {
				t.Fatalf("list %s: %d %s", q, resp.code, resp.body)
			}
			resp.object(t, &l)
			n += len(l.Items)
			pages++
			if l.Continue == "" {
				return n, pages
			}
			cont = l.Continue
		}
	}
	tests := []struct {
		query     string
		wantN     int
		wantPages int
	}{
		{"labelSelector=tier%3Dfront", 13, 1},
		{"labelSelector=tier+in+(back)", 12, 1},
		{"labelSelector=tier!%3Dfront", 12, 1},
		{"fieldSelector=metadata.name%3Dcm3", 1, 1},
		{"limit=10", 25, 3},
		{"limit=5&labelSelector=tier%3Dback", 12, 3},
	}
	for _, tt := range tests {
		n, pages := count(tt.query)
		if n != tt.wantN || pages != tt.wantPages {
			t.Errorf("%s: got %d items in %d pages; want %d in %d", tt.query, n, pages, tt.wantN, tt.wantPages)
		}
	}
	resp := s.do(t, "GET", "/api/v1/namespaces/default/configmaps?fieldSelector=spec.nope%3Dx", "", "")
	if resp.code != 400 || !strings.Contains(resp.status(t).Message, `"spec.nope" is not a known field selector`) {
		t.Errorf("unknown field selector: got %d %s; want 400 naming it", resp.code, resp.body)
	}
}

func TestDiscoveryListsEveryKind(t *testing.T) {
	s := newTestServer(t)
	for _, k := range apis.All() {
		path := "/api/" + k.Version
		if k.Group != "" {
			path = "/apis/" + k.Group + "/" + k.Version
		}
		resp := s.do(t, "GET", path, "", "")
		if resp.code != 200 || !strings.Contains(string(resp.body), `"name":"`+k.Resource+`"`) {
			t.Errorf("%s: %s does not list it (%d)", k.Resource, path, resp.code)
		}
		list := s.do(t, "GET", path+"/"+k.Resource, "", "")
		if list.code != 200 {
			t.Errorf("list %s: got %d %s", k.Resource, list.code, list.body)
		}
	}
	if resp := s.do(t, "GET", "/version", "", ""); !strings.Contains(string(resp.body), `"minor":"32"`) {
		t.Errorf("/version: got %s; want minor 32", resp.body)
	}
}

// TestStrategicMergePatchMergesContainersByName: the patch kubectl apply
// sends changes one container's image and leaves the other alone.
func TestStrategicMergePatchMergesContainersByName(t *testing.T) {
	s := newTestServer(t)
	dep := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"selector":{"matchLabels":{"app":"d"}},
	 "template":{"metadata":{"labels":{"app":"d"}},"spec":{"containers":[{"name":"a","image":"a:1"},{"name":"b","image":"b:1"}]}}}}`
	s.do(t, "POST", "/apis/apps/v1/namespaces/default/deployments", "application/json", dep)
	patch := `{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"a"},{"name":"b"}],"containers":[{"name":"b","image":"b:2"}]}}}}`
	resp := s.do(t, "PATCH", "/apis/apps/v1/namespaces/default/deployments/d", "application/strategic-merge-patch+json", patch)
	if resp.code != 200 {
		t.Fatalf("patch: %d %s", resp.code, resp.body)
	}
	body := string(resp.body)
	if !strings.Contains(body, `{"name":"a","image":"a:1"`) || !strings.Contains(body, `{"name":"b","image":"b:2"`) || strings.Contains(body, "$setElementOrder") {
		t.Errorf("got %s; want container a unchanged, b at b:2, no directives", body)
	}
}

func TestDryRunStoresNothing(t *testing.T) {
	s := newTestServer(t)
	resp := s.do(t, "POST", "/api/v1/namespaces/default/configmaps?dryRun=All", "application/json", `{"metadata":{"name":"dry"}}`)
	if resp.code != 201 || !strings.Contains(string(resp.body), `"name":"dry"`) {
		t.Fatalf("dry-run create: got %d %s; want 201 with the object", resp.code, resp.body)
	}
	if resp := s.do(t, "GET", "/api/v1/namespaces/default/configmaps/dry", "", ""); resp.code != 404 {
		t.Errorf("after a dry-run create: got %d; want 404", resp.code)
	}
	s.do(t, "POST", "/api/v1/namespaces/default/configmaps", "application/json", `{"metadata":{"name":"real"},"data":{"a":"1"}}`)
	s.do(t, "PATCH", "/api/v1/namespaces/default/configmaps/real?dryRun=All", "application/merge-patch+json", `{"data":{"a":"2"}}`)
	s.do(t, "DELETE", "/api/v1/namespaces/default/configmaps/real?dryRun=All", "", "")
	resp = s.do(t, "GET", "/api/v1/namespaces/default/configmaps/real", "", "")
	if resp.code != 200 || !strings.Contains(string(resp.body), `"a":"1"`) {
		t.Errorf("after a dry-run patch and delete: got %d %s; want the object unchanged", resp.code, resp.body)
	}
}

func TestDeleteCollectionBySelector(t *testing.T) {
	s := newTestServer(t)
	for i, team := range []string{"a", "a", "b"} {
		s.do(t, "POST", "/api/v1/namespaces/default/configmaps", "application/json",
			`{"metadata":{"name":"c`+strconv.Itoa(i)+`","labels":{"team":"`+team+`"}}}`)
	}
	resp := s.do(t, "DELETE", "/api/v1/namespaces/default/configmaps?labelSelector=team%3Da", "", "")
	var deleted core.ConfigMapList
	resp.object(t, &deleted)
	if resp.code != 200 || len(deleted.Items) != 2 {
		t.Fatalf("deletecollection: got %d with %d items; want 200 with 2", resp.code, len(deleted.Items))
	}
	var left core.ConfigMapList
	s.do(t, "GET", "/api/v1/namespaces/default/configmaps", "", "").object(t, &left)
	if len(left.Items) != 1 || left.Items[0].Name != "c2" {
		t.Errorf("left: %d items; want only c2", len(left.Items))
	}
}

func TestGenerateName(t *testing.T) {
	s := newTestServer(t)
	resp := s.do(t, "POST", "/api/v1/namespaces/default/configmaps", "application/json", `{"metadata":{"generateName":"job-"}}`)
	var cm core.ConfigMap
	resp.object(t, &cm)
	if resp.code != 201 || !strings.HasPrefix(cm.Name, "job-") || len(cm.Name) != len("job-")+5 {
		t.Errorf("generateName: got %d name %q; want 201 and job- plus 5 characters", resp.code, cm.Name)
	}
}

// TestNamespaceGoesWhenItsFinalizerIsRemoved: a terminating namespace
// stays through other updates and goes when spec.finalizers is emptied.
func TestNamespaceGoesWhenItsFinalizerIsRemoved(t *testing.T) {
	s := newTestServer(t)
	s.do(t, "POST", "/api/v1/namespaces", "application/json", `{"metadata":{"name":"gone"}}`)
	s.do(t, "DELETE", "/api/v1/namespaces/gone", "", "")
	s.do(t, "PATCH", "/api/v1/namespaces/gone", "application/merge-patch+json", `{"metadata":{"labels":{"x":"y"}}}`)
	if resp := s.do(t, "GET", "/api/v1/namespaces/gone", "", ""); resp.code != 200 {
		t.Fatalf("terminating namespace vanished on an unrelated update: %d", resp.code)
	}
	resp := s.do(t, "PATCH", "/api/v1/namespaces/gone", "application/merge-patch+json", `{"spec":{"finalizers":null}}`)
	if resp.code != 200 {
		t.Fatalf("finalize: %d %s", resp.code, resp.body)
	}
	if resp := s.do(t, "GET", "/api/v1/namespaces/gone", "", ""); resp.code != 404 {
		t.Errorf("after removing its finalizer: got %d; want 404", resp.code)
	}
}

func TestPodsGetDefaultTolerations(t *testing.T) {
	s := newTestServer(t)
	var pod core.Pod
	s.do(t, "POST", "/api/v1/namespaces/default/pods", "application/json", podJSON).object(t, &pod)
	got := map[string]int64{}
	for _, tol := range pod.Spec.Tolerations {
		if tol.TolerationSeconds != nil {
			got[tol.Key] = *tol.TolerationSeconds
		}
	}
	if got[core.TaintNodeNotReady] != 300 || got[core.TaintNodeUnreachable] != 300 {
		t.Errorf("tolerations %+v; want not-ready and unreachable NoExecute for 300s", pod.Spec.Tolerations)
	}
}

func TestJobsGetAGeneratedSelector(t *testing.T) {
	s := newTestServer(t)
	resp := s.do(t, "POST", "/apis/batch/v1/namespaces/default/jobs", "application/json",
		`{"metadata":{"name":"pi"},"spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"pi","image":"busybox"}]}}}}`)
	if resp.code != 201 {
		t.Fatalf("create job: %d %s", resp.code, resp.body)
	}
	var job struct {
		Metadata meta.ObjectMeta
		Spec     struct {
			Selector *meta.LabelSelector
			Template struct{ Metadata meta.ObjectMeta }
		}
	}
	resp.object(t, &job)
	uid := job.Metadata.UID
	if job.Spec.Selector == nil || job.Spec.Selector.MatchLabels["batch.kubernetes.io/controller-uid"] != uid ||
		job.Spec.Template.Metadata.Labels["job-name"] != "pi" || job.Spec.Template.Metadata.Labels["controller-uid"] != uid {
		t.Errorf("job selector %+v, template labels %v; want the uid selector and job labels", job.Spec.Selector, job.Spec.Template.Metadata.Labels)
	}
}
