package nodelifecycle

import (
	"slices"
	"testing"
	"time"

	"minik8s/pkg/apis/coordination"
	"minik8s/pkg/apis/core"
	"minik8s/pkg/apis/meta"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

func TestObserveMeasuresSilenceOnItsOwnClock(t *testing.T) {
	node := &core.Node{ObjectMeta: meta.ObjectMeta{UID: "u1"}}
	// The agent's clock is an hour behind: irrelevant, only change counts.
	agent := t0.Add(-time.Hour)
	lease := &coordination.Lease{Spec: coordination.LeaseSpec{RenewTime: &meta.MicroTime{Time: agent}}}

	o := observe(observation{}, node, lease, t0)
	if !o.probed.Equal(t0) {
		t.Fatalf("first sight: probed %v; want now %v (a full grace period)", o.probed, t0)
	}
	o = observe(o, node, lease, t0.Add(30*time.Second))
	if got := o.silentFor(t0.Add(30 * time.Second)); got != 30*time.Second {
		t.Errorf("unchanged lease: silent for %v; want 30s", got)
	}
	lease.Spec.RenewTime = &meta.MicroTime{Time: agent.Add(10 * time.Second)}
	o = observe(o, node, lease, t0.Add(40*time.Second))
	if got := o.silentFor(t0.Add(40 * time.Second)); got != 0 {
		t.Errorf("renewed lease: silent for %v; want 0", got)
	}
	node.Status.Conditions = []core.NodeCondition{{Type: core.NodeReady, Status: core.ConditionTrue, LastHeartbeatTime: meta.NewTime(agent)}}
	o = observe(o, node, lease, t0.Add(50*time.Second))
	if !o.probed.Equal(t0.Add(50 * time.Second)) {
		t.Errorf("new Ready heartbeat: probed %v; want %v", o.probed, t0.Add(50*time.Second))
	}
	o = observe(o, &core.Node{ObjectMeta: meta.ObjectMeta{UID: "u2"}, Status: node.Status}, lease, t0.Add(60*time.Second))
	if !o.probed.Equal(t0.Add(60 * time.Second)) {
		t.Errorf("re-created node: probed %v; want a fresh start at %v", o.probed, t0.Add(60*time.Second))
	}
}

func TestMarkUnknownSetsEveryConditionOnce(t *testing.T) {
	hb := meta.NewTime(t0.Add(-time.Minute))
	conds := []core.NodeCondition{
		{Type: core.NodeReady, Status: core.ConditionTrue, LastHeartbeatTime: hb},
		{Type: core.NodeMemoryPressure, Status: core.ConditionFalse, LastHeartbeatTime: hb},
	}
	out, changed := markUnknown(conds, t0)
	if !changed {
		t.Fatal("changed = false; want true")
	}
	for _, c := range out {
		if c.Status != core.ConditionUnknown || c.Reason != reasonUnknown || c.Message != messageUnknown ||
			!c.LastTransitionTime.Equal(t0) || !c.LastHeartbeatTime.Equal(hb.Time) {
			t.Errorf("condition %+v; want Unknown, %s, transition now, heartbeat kept", c, reasonUnknown)
		}
	}
	if conds[0].Status != core.ConditionTrue {
		t.Error("markUnknown changed its input; want a copy")
	}
	if _, changed := markUnknown(out, t0.Add(time.Minute)); changed {
		t.Error("already Unknown: changed = true; want no second write")
	}
	never, _ := markUnknown(nil, t0)
	if len(never) != 1 || never[0].Reason != reasonNeverUpdated {
		t.Errorf("node that never posted: %+v; want one Ready Unknown %s", never, reasonNeverUpdated)
	}
}

func TestDesiredTaintsFollowReady(t *testing.T) {
	old := &meta.Time{Time: t0.Add(-time.Hour)}
	now := meta.NewTime(t0)
	user := core.Taint{Key: "dedicated", Value: "gpu", Effect: core.TaintEffectNoSchedule}
	tests := []struct {
		name    string
		taints  []core.Taint
		ready   string
		want    []core.Taint
		changed bool
	}{
		{"ready node: nothing to add", []core.Taint{user}, core.ConditionTrue, []core.Taint{user}, false},
		{"unknown: unreachable taints, NoExecute stamped", []core.Taint{user}, core.ConditionUnknown, []core.Taint{user,
			{Key: core.TaintNodeUnreachable, Effect: core.TaintEffectNoSchedule},
			{Key: core.TaintNodeUnreachable, Effect: core.TaintEffectNoExecute, TimeAdded: &now}}, true},
		{"still unknown: timeAdded kept", []core.Taint{
			{Key: core.TaintNodeUnreachable, Effect: core.TaintEffectNoSchedule},
			{Key: core.TaintNodeUnreachable, Effect: core.TaintEffectNoExecute, TimeAdded: old}}, core.ConditionUnknown, []core.Taint{
			{Key: core.TaintNodeUnreachable, Effect: core.TaintEffectNoSchedule},
			{Key: core.TaintNodeUnreachable, Effect: core.TaintEffectNoExecute, TimeAdded: old}}, false},
		{"unknown becomes false: not-ready replaces unreachable", []core.Taint{
			{Key: core.TaintNodeUnreachable, Effect: core.TaintEffectNoExecute, TimeAdded: old}}, core.ConditionFalse, []core.Taint{
			{Key: core.TaintNodeNotReady, Effect: core.TaintEffectNoSchedule},
			{Key: core.TaintNodeNotReady, Effect: core.TaintEffectNoExecute, TimeAdded: &now}}, true},
		{"ready again: managed taints go, others stay", []core.Taint{user,
			{Key: core.TaintNodeUnreachable, Effect: core.TaintEffectNoExecute, TimeAdded: old}}, core.ConditionTrue, []core.Taint{user}, true},
		{"no Ready yet: taints left as they are", []core.Taint{{Key: core.TaintNodeNotReady, Effect: core.TaintEffectNoSchedule}}, "",
			[]core.Taint{{Key: core.TaintNodeNotReady, Effect: core.TaintEffectNoSchedule}}, false},
		{"someone's NoExecute taint without timeAdded gets one", []core.Taint{{Key: "x", Effect: core.TaintEffectNoExecute}}, core.ConditionTrue,
			[]core.Taint{{Key: "x", Effect: core.TaintEffectNoExecute, TimeAdded: &now}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed := desiredTaints(tt.taints, tt.ready, t0)
			if changed != tt.changed || !slices.EqualFunc(got, tt.want, sameTaint) {
				t.Errorf("desiredTaints = %v, %v; want %v, %v", got, changed, tt.want, tt.changed)
			}
		})
	}
}

func sameTaint(a, b core.Taint) bool {
	if a.Key != b.Key || a.Value != b.Value || a.Effect != b.Effect || (a.TimeAdded == nil) != (b.TimeAdded == nil) {
		return false
	}
	return a.TimeAdded == nil || a.TimeAdded.Equal(b.TimeAdded.Time)
}

func TestEvictionTimeFollowsTolerations(t *testing.T) {
	added := &meta.Time{Time: t0}
	unreach := core.Taint{Key: core.TaintNodeUnreachable, Effect: core.TaintEffectNoExecute, TimeAdded: added}
	notReady := core.Taint{Key: core.TaintNodeNotReady, Effect: core.TaintEffectNoExecute, TimeAdded: &meta.Time{Time: t0.Add(5 * time.Second)}}
	noSched := core.Taint{Key: core.TaintNodeUnreachable, Effect: core.TaintEffectNoSchedule}
	now := t0.Add(time.Second)
	tol := func(key string, secs *int64) core.Toleration {
		return core.Toleration{Key: key, Operator: core.TolerationOpExists, Effect: core.TaintEffectNoExecute, TolerationSeconds: secs}
	}
	tests := []struct {
		name   string
		tols   []core.Toleration
		taints []core.Taint
		want   time.Time
		evicts bool
	}{
		{"no NoExecute taint: stays", nil, []core.Taint{noSched}, time.Time{}, false},
		{"no matching toleration: now", []core.Toleration{tol("other", nil)}, []core.Taint{unreach}, now, true},
		{"tolerationSeconds after timeAdded", []core.Toleration{tol(core.TaintNodeUnreachable, ptr[int64](300))}, []core.Taint{unreach}, t0.Add(300 * time.Second), true},
		{"negative seconds count as zero", []core.Toleration{tol(core.TaintNodeUnreachable, ptr[int64](-5))}, []core.Taint{unreach}, t0, true},
		{"tolerated forever", []core.Toleration{tol(core.TaintNodeUnreachable, nil)}, []core.Taint{unreach}, time.Time{}, false},
		{"wildcard toleration", []core.Toleration{{Operator: core.TolerationOpExists}}, []core.Taint{unreach, notReady}, time.Time{}, false},
		{"earliest of several taints", []core.Toleration{tol(core.TaintNodeUnreachable, ptr[int64](10)), tol(core.TaintNodeNotReady, ptr[int64](1))},
			[]core.Taint{unreach, notReady}, t0.Add(6 * time.Second), true},
		{"one taint untolerated: now", []core.Toleration{tol(core.TaintNodeUnreachable, nil)}, []core.Taint{unreach, notReady}, now, true},
		{"Equal needs the value", []core.Toleration{{Key: "k", Operator: core.TolerationOpEqual, Value: "v"}},
			[]core.Taint{{Key: "k", Value: "w", Effect: core.TaintEffectNoExecute, TimeAdded: added}}, now, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at, ok := evictionTime(tt.tols, tt.taints, now)
			if ok != tt.evicts || !at.Equal(tt.want) {
				t.Errorf("evictionTime = %v, %v; want %v, %v", at, ok, tt.want, tt.evicts)
			}
		})
	}
}

func TestConfigDefaultsAndValidation(t *testing.T) {
	d := Config{}.withDefaults()
	if d.NodeMonitorGracePeriod != 40*time.Second || d.MonitorPeriod != 5*time.Second || d.Now == nil {
		t.Errorf("defaults %+v; want 40s, 5s, time.Now", d)
	}
	if d := (Config{NodeMonitorGracePeriod: 2 * time.Second}).withDefaults(); d.MonitorPeriod != time.Second {
		t.Errorf("grace 2s alone: monitor period %v; want 1s (two looks per grace period)", d.MonitorPeriod)
	}
	if err := (Config{NodeMonitorGracePeriod: time.Second, MonitorPeriod: 5 * time.Second}).Validate(); err == nil {
		t.Error("grace 1s, monitor period 5s: Validate() = nil; want an error")
	}
}
