package deployment

import (
	"strings"
	"testing"
	"time"

	"minik8s/pkg/apis/apps"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/intstr"
	"minik8s/pkg/apis/meta"
)

func rollingDeployment(n int32, surge, unavailable string) *apps.Deployment {
	s, u := intstr.Parse(surge), intstr.Parse(unavailable)
	return &apps.Deployment{Spec: apps.DeploymentSpec{Replicas: &n, Strategy: apps.DeploymentStrategy{
		Type: apps.RollingUpdateDeploymentStrategyType, RollingUpdate: &apps.RollingUpdateDeployment{MaxSurge: &s, MaxUnavailable: &u}}}}
}

// rs builds a ReplicaSet with spec replicas, status replicas and available.
func rs(name string, spec, replicas, available int32, age time.Duration) *apps.ReplicaSet {
	return &apps.ReplicaSet{
		ObjectMeta: meta.ObjectMeta{Name: name, CreationTimestamp: meta.NewTime(time.Unix(1e9, 0).Add(-age))},
		Spec:       apps.ReplicaSetSpec{Replicas: &spec},
		Status:     apps.ReplicaSetStatus{Replicas: replicas, AvailableReplicas: available, ReadyReplicas: available},
	}
}

func TestTemplateHashIgnoresItsOwnLabelAndUsesTheSafeAlphabet(t *testing.T) {
	tmpl := core.PodTemplateSpec{ObjectMeta: meta.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec: core.PodSpec{Containers: []core.Container{{Name: "c", Image: "img:A"}}}}
	h := templateHash(&tmpl, nil)
	if strings.Trim(h, safeAlphabet) != "" || len(h) == 0 {
		t.Errorf("hash %q; want only characters of %q", h, safeAlphabet)
	}
	labelled := tmpl
	labelled.Labels = withHashLabel(tmpl.Labels, h)
	if got := templateHash(&labelled, nil); got != h {
		t.Errorf("hash with the pod-template-hash label: got %q; want %q", got, h)
	}
	if !equalIgnoringHash(&tmpl, &labelled) {
		t.Error("templates differing only in pod-template-hash: want equal")
	}
	one := int32(1)
	if templateHash(&tmpl, &one) == h {
		t.Error("a collision count must change the hash")
	}
	other := tmpl
	other.Spec = core.PodSpec{Containers: []core.Container{{Name: "c", Image: "img:B"}}}
	if templateHash(&other, nil) == h || equalIgnoringHash(&tmpl, &other) {
		t.Error("another image must give another hash and compare unequal")
	}
}

func TestFencepostsRoundSurgeUpAndUnavailableDown(t *testing.T) {
	for _, tc := range []struct {
		n                  int32
		surge, unavailable string
		wantS, wantU       int32
	}{
		{10, "25%", "25%", 3, 2},
		{4, "1", "1", 1, 1},
		{1, "25%", "25%", 1, 0},
		{3, "0", "10%", 0, 1}, // both zero: unavailable becomes 1
	} {
		d := rollingDeployment(tc.n, tc.surge, tc.unavailable)
		if s, u := maxSurge(d), maxUnavailable(d); s != tc.wantS || u != tc.wantU {
			t.Errorf("replicas %d, surge %s, unavailable %s: got %d, %d; want %d, %d",
				tc.n, tc.surge, tc.unavailable, s, u, tc.wantS, tc.wantU)
		}
	}
}

func TestRollingNewReplicasWaitsForOldPodsToGo(t *testing.T) {
	d := rollingDeployment(4, "1", "1")
	newRS := rs("new", 1, 1, 1, 0)
	// The old ReplicaSet was scaled 4 -> 3 but still has 4 pods: there is
	// no room yet, whatever the specs say.
	old := rs("old", 3, 4, 4, time.Hour)
	if got := rollingNewReplicas(d, []*apps.ReplicaSet{old, newRS}, newRS); got != 1 {
		t.Errorf("old pods not yet gone: got %d; want 1 (unchanged)", got)
	}
	old = rs("old", 3, 3, 3, time.Hour)
	if got := rollingNewReplicas(d, []*apps.ReplicaSet{old, newRS}, newRS); got != 2 {
		t.Errorf("old pods gone: got %d; want 2", got)
	}
}

func TestRollingOldScaleDownKeepsMinimumAvailable(t *testing.T) {
	d := rollingDeployment(4, "1", "1") // at least 3 available
	for _, tc := range []struct {
		name   string
		old    []*apps.ReplicaSet
		newRS  *apps.ReplicaSet
		target []int32
	}{
		{"first step: one may go", []*apps.ReplicaSet{rs("a", 4, 4, 4, time.Hour)}, rs("n", 1, 1, 0, 0), []int32{3}},
		{"new pods not available yet: none may go", []*apps.ReplicaSet{rs("a", 3, 3, 3, time.Hour)}, rs("n", 2, 2, 0, 0), nil},
		{"unavailable old pods go first, oldest set first",
			[]*apps.ReplicaSet{rs("b", 2, 2, 1, time.Minute), rs("a", 2, 2, 2, time.Hour)}, rs("n", 1, 1, 1, 0), []int32{1, 1}},
		{"stale status of a shrinking set is not counted", []*apps.ReplicaSet{rs("a", 2, 3, 3, time.Hour)}, rs("n", 2, 2, 1, 0), nil},
	} {
		ops := rollingOldScaleDown(d, tc.old, tc.newRS)
		got := map[string]int32{}
		for _, op := range ops {
			got[op.rs.Name] = op.to
		}
		if len(tc.target) == 0 {
			if len(ops) != 0 {
				t.Errorf("%s: got %v; want no change", tc.name, got)
			}
			continue
		}
		sorted := byCreation(tc.old)
		for i, want := range tc.target {
			if g, ok := got[sorted[i].Name]; !ok && rsReplicas(sorted[i]) != want || ok && g != want {
				t.Errorf("%s: %s -> %v; want %d", tc.name, sorted[i].Name, got, want)
			}
		}
	}
}

func TestProportionalScaleSharesByAnnotatedSize(t *testing.T) {
	d := rollingDeployment(20, "3", "2") // was 10 with surge 3: max-replicas 13
	a, b := rs("old", 8, 8, 8, time.Hour), rs("new", 5, 5, 0, 0)
	for _, x := range []*apps.ReplicaSet{a, b} {
		x.Annotations = map[string]string{MaxReplicasAnnotation: "13", DesiredReplicasAnnotation: "10"}
	}
	got := map[string]int32{}
	for _, op := range proportionalScale(d, []*apps.ReplicaSet{a, b}) {
		got[op.rs.Name] = op.to
	}
	// 23 allowed now; 13 in use; 10 to add: old 8*23/13 = 14 (+6), new 5*23/13 = 9 (+4).
	if got["old"] != 14 || got["new"] != 9 {
		t.Errorf("proportional scale: got %v; want old 14, new 9", got)
	}
}

func TestRollbackMovesTheReusedReplicaSetToTheNewRevision(t *testing.T) {
	d := &apps.Deployment{ObjectMeta: meta.ObjectMeta{Annotations: map[string]string{"kubernetes.io/change-cause": "undo", RevisionAnnotation: "2"}}}
	old := rs("a", 0, 0, 0, time.Hour)
	old.Annotations = map[string]string{RevisionAnnotation: "1"}
	if !setNewRSAnnotations(d, old, 3, false) {
		t.Fatal("want a change")
	}
	want := map[string]string{RevisionAnnotation: "3", RevisionHistoryAnnotation: "1", "kubernetes.io/change-cause": "undo"}
	for k, v := range want {
		if old.Annotations[k] != v {
			t.Errorf("annotation %s: got %q; want %q", k, old.Annotations[k], v)
		}
	}
	if setNewRSAnnotations(d, old, 3, false) {
		t.Error("second call: want no change")
	}
}

func TestCompleteIsKubectlRolloutStatusRule(t *testing.T) {
	d := rollingDeployment(3, "1", "1")
	d.Generation = 2
	st := apps.DeploymentStatus{ObservedGeneration: 2, Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 3}
	if !complete(d, &st) {
		t.Error("all updated and available: want complete")
	}
	for name, mut := range map[string]func(*apps.DeploymentStatus){
		"old generation":    func(s *apps.DeploymentStatus) { s.ObservedGeneration = 1 },
		"old pods remain":   func(s *apps.DeploymentStatus) { s.Replicas = 4 },
		"not all updated":   func(s *apps.DeploymentStatus) { s.UpdatedReplicas = 2 },
		"not all available": func(s *apps.DeploymentStatus) { s.AvailableReplicas = 2 },
	} {
		s := st
		mut(&s)
		if complete(d, &s) {
			t.Errorf("%s: want not complete", name)
		}
	}
}
