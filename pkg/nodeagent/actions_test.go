package nodeagent

import (
	"reflect"
	"testing"
	"time"

	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func testPod(policy string, init []string, apps ...string) *core.Pod {
	p := &core.Pod{ObjectMeta: meta.ObjectMeta{Name: "p", Namespace: "ns", UID: "u"}, Spec: core.PodSpec{RestartPolicy: policy}}
	for _, n := range init {
		p.Spec.InitContainers = append(p.Spec.InitContainers, core.Container{Name: n})
	}
	for _, n := range apps {
		p.Spec.Containers = append(p.Spec.Containers, core.Container{Name: n})
	}
	return p
}

func running(name string, attempt int) instance {
	return instance{ID: name + "-" + string(rune('0'+attempt)), Name: name, Attempt: attempt, Running: true, Started: true, StartedAt: t0.Add(-time.Minute)}
}

func exited(name string, attempt int, code int32, ago time.Duration) instance {
	return instance{ID: name + "-" + string(rune('0'+attempt)), Name: name, Attempt: attempt, Started: true, ExitCode: code, FinishedAt: t0.Add(-ago)}
}

func starts(a podActions) []startAction { return a.Start }

// TestComputePodActions is the pod diff as a table: what runs, and what
// the agent must do next.
func TestComputePodActions(t *testing.T) {
	base, max := 10*time.Second, 5*time.Minute
	tests := []struct {
		name        string
		pod         *core.Pod
		ins         []instance
		probes      map[string]probeState
		wantStart   []startAction
		wantKill    []string
		wantWaiting string // reason for container "a" (or the init container)
	}{
		{"new pod starts every app container", testPod("Always", nil, "a", "b"), nil, nil,
			[]startAction{{Name: "a"}, {Name: "b"}}, nil, ""},
		{"init containers first, one at a time", testPod("Always", []string{"i1", "i2"}, "a"), nil, nil,
			[]startAction{{Name: "i1", Init: true}}, nil, ""},
		{"second init after the first succeeded", testPod("Always", []string{"i1", "i2"}, "a"),
			[]instance{exited("i1", 0, 0, time.Second)}, nil, []startAction{{Name: "i2", Init: true}}, nil, ""},
		{"running init blocks the apps", testPod("Always", []string{"i1"}, "a"),
			[]instance{running("i1", 0)}, nil, nil, nil, ""},
		{"failed init with Never blocks for good", testPod("Never", []string{"i1"}, "a"),
			[]instance{exited("i1", 0, 1, time.Hour)}, nil, nil, nil, ""},
		{"apps after all inits succeeded", testPod("Always", []string{"i1"}, "a"),
			[]instance{exited("i1", 0, 0, time.Second)}, nil, []startAction{{Name: "a"}}, nil, ""},
		{"running app: nothing to do", testPod("Always", nil, "a"), []instance{running("a", 0)}, nil, nil, nil, ""},
		{"crashed app waits out its backoff", testPod("Always", nil, "a"),
			[]instance{exited("a", 2, 1, 5*time.Second)}, nil, nil, nil, "CrashLoopBackOff"},
		{"crashed app restarts after its backoff (40s at 2 restarts)", testPod("Always", nil, "a"),
			[]instance{exited("a", 2, 1, 41*time.Second)}, nil, []startAction{{Name: "a", Attempt: 3}}, nil, ""},
		{"OnFailure does not restart a success", testPod("OnFailure", nil, "a"),
			[]instance{exited("a", 0, 0, time.Hour)}, nil, nil, nil, ""},
		{"OnFailure restarts a failure", testPod("OnFailure", nil, "a"),
			[]instance{exited("a", 0, 3, time.Hour)}, nil, []startAction{{Name: "a", Attempt: 1}}, nil, ""},
		{"Never does not restart a failure", testPod("Never", nil, "a"),
			[]instance{exited("a", 0, 3, time.Hour)}, nil, nil, nil, ""},
		{"failed liveness kills the container", testPod("Always", nil, "a"),
			[]instance{running("a", 0)}, map[string]probeState{"a-0": {LivenessFails: true}}, nil, []string{"a-0"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := computePodActions(tt.pod, observed{Instances: tt.ins, Probes: tt.probes}, t0, base, max)
			if !reflect.DeepEqual(starts(got), tt.wantStart) {
				t.Errorf("start: got %+v; want %+v", got.Start, tt.wantStart)
			}
			var kills []string
			for id := range got.Kill {
				kills = append(kills, id)
			}
			if !reflect.DeepEqual(kills, tt.wantKill) {
				t.Errorf("kill: got %v; want %v", kills, tt.wantKill)
			}
			if w := got.Waiting["a"].Reason; w != tt.wantWaiting {
				t.Errorf("waiting reason of a: got %q; want %q", w, tt.wantWaiting)
			}
		})
	}
}

func TestDeletingPodKillsEverythingRunning(t *testing.T) {
	p := testPod("Always", nil, "a", "b")
	now := meta.NewTime(t0)
	p.DeletionTimestamp = &now
	got := computePodActions(p, observed{Instances: []instance{running("a", 0), exited("b", 0, 0, time.Second)}}, t0, time.Second, time.Minute)
	if len(got.Kill) != 1 || got.Kill["a-0"] == "" || len(got.Start) != 0 {
		t.Errorf("got kill %v start %v; want only a-0 killed, nothing started", got.Kill, got.Start)
	}
}

func TestCrashBackoffDoublesToTheCap(t *testing.T) {
	tests := []struct {
		restarts int
		want     time.Duration
	}{{0, 10 * time.Second}, {1, 20 * time.Second}, {3, 80 * time.Second}, {5, 5 * time.Minute}, {50, 5 * time.Minute}}
	for _, tt := range tests {
		if got := crashBackoff(tt.restarts, 10*time.Second, 5*time.Minute); got != tt.want {
			t.Errorf("crashBackoff(%d): got %v; want %v", tt.restarts, got, tt.want)
		}
	}
}

func TestGarbageKeepsCurrentAndPreviousInstance(t *testing.T) {
	ins := []instance{exited("a", 0, 1, 3*time.Minute), exited("a", 1, 1, 2*time.Minute), exited("a", 2, 1, time.Minute), running("b", 0)}
	if got := garbage(ins); !reflect.DeepEqual(got, []string{"a-0"}) {
		t.Errorf("garbage: got %v; want [a-0]", got)
	}
}
