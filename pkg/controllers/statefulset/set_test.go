package statefulset

import (
	"fmt"
	"slices"
	"testing"

	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
)

func TestOrdinalOfAcceptsOnlySetNameDashNumber(t *testing.T) {
	for _, tc := range []struct {
		pod  string
		ord  int
		want bool
	}{
		{"web-0", 0, true}, {"web-12", 12, true},
		{"web-", 0, false}, {"web-01", 0, false}, {"web-x", 0, false},
		{"web-1-2", 0, false}, {"webby-1", 0, false}, {"other-1", 0, false},
	} {
		ord, ok := ordinalOf("web", tc.pod)
		if ok != tc.want || ok && ord != tc.ord {
			t.Errorf("ordinalOf(web, %s) = %d, %v; want %d, %v", tc.pod, ord, ok, tc.ord, tc.want)
		}
	}
}

// pod states for the decide table: h healthy, p pending (not ready),
// t terminating, f failed; the suffix is the revision ("h1": healthy at r1).
func pods(states ...string) map[int]*core.Pod {
	out := map[int]*core.Pod{}
	for i, s := range states {
		if s == "" {
			continue
		}
		p := &core.Pod{ObjectMeta: meta.ObjectMeta{Name: podName("web", i), Labels: map[string]string{RevisionLabel: "r" + s[1:]}}}
		switch s[0] {
		case 'h', 't':
			p.Status = core.PodStatus{Phase: core.PodRunning, Conditions: []core.PodCondition{{Type: core.PodReady, Status: core.ConditionTrue}}}
			if s[0] == 't' {
				now := meta.Now()
				p.DeletionTimestamp = &now
			}
		case 'p':
			p.Status.Phase = core.PodPending
		case 'f':
			p.Status.Phase = core.PodFailed
		}
		out[i] = p
	}
	return out
}

func describeSteps(steps []step) []string {
	var out []string
	for _, s := range steps {
		switch s.kind {
		case createPod:
			out = append(out, fmt.Sprintf("create %d@%s", s.ordinal, s.revision))
		case deletePod:
			out = append(out, fmt.Sprintf("delete %d", s.ordinal))
		}
	}
	return out
}

func TestDecideFollowsKubernetesOrdering(t *testing.T) {
	ordered := setState{replicas: 3, monotonic: true, rolling: true, current: "r1", update: "r1"}
	parallel := ordered
	parallel.monotonic = false
	updating := ordered
	updating.update = "r2"
	partitioned := updating
	partitioned.partition = 1
	onDelete := updating
	onDelete.rolling = false
	for _, tc := range []struct {
		name string
		st   setState
		pods map[int]*core.Pod
		want []string
	}{
		{"creates the lowest missing pod first", ordered, pods(), []string{"create 0@r1"}},
		{"waits for a pending pod", ordered, pods("h1", "p1"), nil},
		{"creates the next once all before are ready", ordered, pods("h1", "h1"), []string{"create 2@r1"}},
		{"fills a gap below before anything above", ordered, pods("", "h1", "h1"), []string{"create 0@r1"}},
		{"never replaces a terminating pod", ordered, pods("h1", "t1", "h1"), nil},
		{"deletes a failed pod to re-create it", ordered, pods("h1", "f1", "h1"), []string{"delete 1"}},
		{"parallel creates all missing pods", parallel, pods("", "p1"), []string{"create 0@r1", "create 2@r1"}},
		{"scales down from the top, one at a time", ordered, pods("h1", "h1", "h1", "h1", "h1"), []string{"delete 4"}},
		{"waits for the condemned pod to be gone", ordered, pods("h1", "h1", "h1", "h1", "t1"), nil},
		{"scale-down waits for unhealthy wanted pods", ordered, pods("h1", "p1", "h1", "h1"), nil},
		{"parallel deletes all condemned pods", parallel, pods("h1", "h1", "h1", "p1", "h1"), []string{"delete 4", "delete 3"}},
		{"rolling update starts at the top", updating, pods("h1", "h1", "h1"), []string{"delete 2"}},
		{"re-creates at the update revision", updating, pods("h1", "h1", ""), []string{"create 2@r2"}},
		{"waits for the updated pod to be ready", updating, pods("h1", "h1", "p2"), nil},
		{"then goes down", updating, pods("h1", "h1", "h2"), []string{"delete 1"}},
		{"stops at the partition", partitioned, pods("h1", "h2", "h2"), nil},
		{"keeps the current revision below the partition", partitioned, pods("", "h2", "h2"), []string{"create 0@r1"}},
		{"OnDelete updates nothing", onDelete, pods("h1", "h1", "h1"), nil},
		{"OnDelete re-creates at the update revision", onDelete, pods("h1", "", "h1"), []string{"create 1@r2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := describeSteps(decide(tc.st, tc.pods)); !slices.Equal(got, tc.want) {
				t.Errorf("got %v; want %v", got, tc.want)
			}
		})
	}
}
