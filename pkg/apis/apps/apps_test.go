package apps

import (
	"encoding/json"
	"strings"
	"testing"

	"minik8s/pkg/apis/intstr"
	"minik8s/pkg/apis/meta"
)

const minimalDeployment = `{
  "apiVersion": "apps/v1", "kind": "Deployment",
  "metadata": {"name": "web", "namespace": "default"},
  "spec": {
    "selector": {"matchLabels": {"app": "web"}},
    "template": {
      "metadata": {"labels": {"app": "web"}},
      "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}
    }
  }
}`

func decodeDeployment(t *testing.T) *Deployment {
	t.Helper()
	var d Deployment
	if err := json.Unmarshal([]byte(minimalDeployment), &d); err != nil {
		t.Fatal(err)
	}
	return &d
}

func TestMinimalDeploymentGetsEveryDefault(t *testing.T) {
	d := decodeDeployment(t)
	DefaultDeployment(d)
	s := d.Spec
	checks := []struct {
		what      string
		got, want any
	}{
		{"replicas", *s.Replicas, int32(1)},
		{"strategy", s.Strategy.Type, "RollingUpdate"},
		{"maxUnavailable", *s.Strategy.RollingUpdate.MaxUnavailable, intstr.FromString("25%")},
		{"maxSurge", *s.Strategy.RollingUpdate.MaxSurge, intstr.FromString("25%")},
		{"revisionHistoryLimit", *s.RevisionHistoryLimit, int32(10)},
		{"progressDeadlineSeconds", *s.ProgressDeadlineSeconds, int32(600)},
		{"template restartPolicy", s.Template.Spec.RestartPolicy, "Always"},
		{"template dnsPolicy", s.Template.Spec.DNSPolicy, "ClusterFirst"},
		{"template schedulerName", s.Template.Spec.SchedulerName, "default-scheduler"},
		{"template grace period", *s.Template.Spec.TerminationGracePeriodSeconds, int64(30)},
		{"template pull policy", s.Template.Spec.Containers[0].ImagePullPolicy, "IfNotPresent"},
		{"template terminationMessagePath", s.Template.Spec.Containers[0].TerminationMessagePath, "/dev/termination-log"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v; want %v", c.what, c.got, c.want)
		}
	}
	if errs := ValidateDeployment(d); len(errs) > 0 {
		t.Errorf("ValidateDeployment = %v; want no errors", errs.ToAggregate())
	}
}

func TestSelectorMustMatchTemplateLabels(t *testing.T) {
	d := decodeDeployment(t)
	d.Spec.Template.Labels = map[string]string{"app": "other"}
	DefaultDeployment(d)
	errs := ValidateDeployment(d)
	want := "spec.template.metadata.labels: Invalid value: {\"app\":\"other\"}: `selector` does not match template `labels`"
	if len(errs) != 1 || errs[0].Error() != want {
		t.Errorf("got %v; want %q", errs.ToAggregate(), want)
	}
}

func TestWorkloadValidation(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Deployment)
		want   []string // error fields
	}{
		{"no selector", func(d *Deployment) { d.Spec.Selector = nil }, []string{"spec.selector"}},
		{"empty selector", func(d *Deployment) { d.Spec.Selector = &meta.LabelSelector{} }, []string{"spec.selector"}},
		{"restartPolicy Never", func(d *Deployment) { d.Spec.Template.Spec.RestartPolicy = "Never" }, []string{"spec.template.spec.restartPolicy"}},
		{"negative replicas", func(d *Deployment) { r := int32(-1); d.Spec.Replicas = &r }, []string{"spec.replicas"}},
		{"both budgets zero", func(d *Deployment) {
			z := intstr.FromInt(0)
			d.Spec.Strategy.RollingUpdate = &RollingUpdateDeployment{MaxUnavailable: &z, MaxSurge: &z}
		}, []string{"spec.strategy.rollingUpdate.maxUnavailable"}},
		{"over 100%", func(d *Deployment) {
			p := intstr.FromString("150%")
			d.Spec.Strategy.RollingUpdate = &RollingUpdateDeployment{MaxUnavailable: &p}
		}, []string{"spec.strategy.rollingUpdate.maxUnavailable"}},
		{"Recreate with rollingUpdate", func(d *Deployment) {
			d.Spec.Strategy = DeploymentStrategy{Type: "Recreate", RollingUpdate: &RollingUpdateDeployment{}}
		}, []string{"spec.strategy.rollingUpdate"}},
	}
	for _, tt := range tests {
		d := decodeDeployment(t)
		tt.mutate(d)
		DefaultDeployment(d)
		var got []string
		for _, e := range ValidateDeployment(d) {
			got = append(got, e.Field)
		}
		if strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("%s: errors at %v; want %v", tt.name, got, tt.want)
		}
	}
}

func TestSelectorIsImmutable(t *testing.T) {
	old := decodeDeployment(t)
	DefaultDeployment(old)
	d := decodeDeployment(t)
	DefaultDeployment(d)
	d.Spec.Selector = &meta.LabelSelector{MatchLabels: map[string]string{"app": "web", "v": "2"}}
	d.Spec.Template.Labels["v"] = "2"
	errs := ValidateDeploymentUpdate(d, old)
	if len(errs) != 1 || errs[0].Field != "spec.selector" || errs[0].Detail != "field is immutable" {
		t.Errorf("changing the selector: %v; want spec.selector: field is immutable", errs.ToAggregate())
	}
	d.Spec.Selector = old.Spec.Selector
	r := int32(5)
	d.Spec.Replicas = &r
	if errs := ValidateDeploymentUpdate(d, old); len(errs) > 0 {
		t.Errorf("changing replicas and template labels: %v; want no errors", errs.ToAggregate())
	}
}

func TestStatefulSetUpdateRules(t *testing.T) {
	base := func() *StatefulSet {
		d := decodeDeployment(t)
		ss := &StatefulSet{ObjectMeta: d.ObjectMeta, Spec: StatefulSetSpec{Selector: d.Spec.Selector, Template: d.Spec.Template, ServiceName: "web"}}
		DefaultStatefulSet(ss)
		return ss
	}
	old := base()
	if errs := ValidateStatefulSet(old); len(errs) > 0 {
		t.Fatalf("ValidateStatefulSet = %v; want none", errs.ToAggregate())
	}
	if *old.Spec.UpdateStrategy.RollingUpdate.Partition != 0 || old.Spec.PodManagementPolicy != OrderedReadyPodManagement {
		t.Errorf("defaults = %+v; want partition 0 and OrderedReady", old.Spec)
	}
	ok := base()
	r := int32(3)
	ok.Spec.Replicas = &r
	ok.Spec.Template.Spec.Containers[0].Image = "nginx:1.26"
	if errs := ValidateStatefulSetUpdate(ok, old); len(errs) > 0 {
		t.Errorf("changing replicas and image: %v; want no errors", errs.ToAggregate())
	}
	bad := base()
	bad.Spec.ServiceName = "other"
	errs := ValidateStatefulSetUpdate(bad, old)
	if len(errs) != 1 || errs[0].Field != "spec" || !strings.HasPrefix(errs[0].Detail, "updates to statefulset spec for fields other than 'replicas'") {
		t.Errorf("changing serviceName: %v; want one Forbidden error on spec", errs.ToAggregate())
	}
}

func TestDaemonSetDefaults(t *testing.T) {
	d := decodeDeployment(t)
	ds := &DaemonSet{ObjectMeta: d.ObjectMeta, Spec: DaemonSetSpec{Selector: d.Spec.Selector, Template: d.Spec.Template}}
	DefaultDaemonSet(ds)
	ru := ds.Spec.UpdateStrategy.RollingUpdate
	if ds.Spec.UpdateStrategy.Type != RollingUpdateStrategyType || *ru.MaxUnavailable != intstr.FromInt(1) || *ru.MaxSurge != intstr.FromInt(0) || *ds.Spec.RevisionHistoryLimit != 10 {
		t.Errorf("defaulted DaemonSet spec = %+v; want RollingUpdate 1/0, history 10", ds.Spec)
	}
	if errs := ValidateDaemonSet(ds); len(errs) > 0 {
		t.Errorf("ValidateDaemonSet = %v; want none", errs.ToAggregate())
	}
}
