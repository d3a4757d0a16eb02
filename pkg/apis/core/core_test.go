package core

import (
	"encoding/json"
	"strings"
	"testing"

	"minik8s/pkg/apis/field"
	"minik8s/pkg/apis/intstr"
	"minik8s/pkg/apis/meta"
	"minik8s/pkg/apis/resource"
)

func decode[T any](t *testing.T, js string) *T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(js), &v); err != nil {
		t.Fatal(err)
	}
	return &v
}

func fields(errs field.ErrorList) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Field)
	}
	return out
}

func TestPodDefaults(t *testing.T) {
	p := decode[Pod](t, `{"metadata":{"name":"p","namespace":"default"},"spec":{"containers":[
		{"name":"a","image":"nginx","ports":[{"containerPort":80}],
		 "resources":{"limits":{"cpu":"1","memory":"1Gi"}},
		 "livenessProbe":{"httpGet":{"port":80}}},
		{"name":"b","image":"nginx:1.25"},
		{"name":"c","image":"registry.local:5000/x"},
		{"name":"d","image":"nginx@sha256:abc"}]}}`)
	DefaultPod(p)
	s := p.Spec
	checks := []struct{ what, got, want string }{
		{"restartPolicy", s.RestartPolicy, "Always"},
		{"dnsPolicy", s.DNSPolicy, "ClusterFirst"},
		{"schedulerName", s.SchedulerName, "default-scheduler"},
		{"serviceAccountName", s.ServiceAccountName, "default"},
		{"untagged pull policy", s.Containers[0].ImagePullPolicy, "Always"},
		{"tagged pull policy", s.Containers[1].ImagePullPolicy, "IfNotPresent"},
		{"registry-port untagged pull policy", s.Containers[2].ImagePullPolicy, "Always"},
		{"digest pull policy", s.Containers[3].ImagePullPolicy, "IfNotPresent"},
		{"terminationMessagePath", s.Containers[0].TerminationMessagePath, "/dev/termination-log"},
		{"terminationMessagePolicy", s.Containers[0].TerminationMessagePolicy, "File"},
		{"port protocol", s.Containers[0].Ports[0].Protocol, "TCP"},
		{"probe path", s.Containers[0].LivenessProbe.HTTPGet.Path, "/"},
		{"probe scheme", s.Containers[0].LivenessProbe.HTTPGet.Scheme, "HTTP"},
		{"cpu request from limit", s.Containers[0].Resources.Requests[ResourceCPU].String(), "1"},
		{"phase", p.Status.Phase, "Pending"},
		{"qosClass", p.Status.QOSClass, "Burstable"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q; want %q", c.what, c.got, c.want)
		}
	}
	if g := *s.TerminationGracePeriodSeconds; g != 30 {
		t.Errorf("terminationGracePeriodSeconds = %d; want 30", g)
	}
	pr := s.Containers[0].LivenessProbe
	if pr.TimeoutSeconds != 1 || pr.PeriodSeconds != 10 || pr.SuccessThreshold != 1 || pr.FailureThreshold != 3 {
		t.Errorf("probe = %+v; want timeout 1, period 10, success 1, failure 3", pr)
	}
	if errs := ValidatePod(p); len(errs) > 0 {
		t.Errorf("ValidatePod(defaulted) = %v; want no errors", errs.ToAggregate())
	}
}

func TestQOSClass(t *testing.T) {
	rl := func(cpu, mem string) ResourceList {
		return ResourceList{ResourceCPU: resource.MustParse(cpu), ResourceMemory: resource.MustParse(mem)}
	}
	tests := []struct {
		name string
		res  ResourceRequirements
		want string
	}{
		{"none", ResourceRequirements{}, QOSBestEffort},
		{"limits only", ResourceRequirements{Limits: rl("1", "1Gi")}, QOSGuaranteed},
		{"equal", ResourceRequirements{Limits: rl("1", "1Gi"), Requests: rl("1000m", "1024Mi")}, QOSGuaranteed},
		{"less", ResourceRequirements{Limits: rl("1", "1Gi"), Requests: rl("500m", "1Gi")}, QOSBurstable},
		{"requests only", ResourceRequirements{Requests: rl("1", "1Gi")}, QOSBurstable},
	}
	for _, tt := range tests {
		p := &Pod{Spec: PodSpec{Containers: []Container{{Name: "a", Image: "x", Resources: tt.res}}}}
		DefaultPod(p)
		if p.Status.QOSClass != tt.want {
			t.Errorf("%s: qosClass = %s; want %s", tt.name, p.Status.QOSClass, tt.want)
		}
	}
}

// TestPodValidationReportsEveryBadField: one request shows the user every
// problem, each at its own path.
func TestPodValidationReportsEveryBadField(t *testing.T) {
	p := decode[Pod](t, `{"metadata":{"name":"p","namespace":"default"},"spec":{
		"restartPolicy":"Sometimes",
		"containers":[{"name":"a","image":"x"},{"name":"b","ports":[{"containerPort":70000}]}]}}`)
	DefaultPod(p)
	got := fields(ValidatePod(p))
	want := []string{"spec.containers[1].image", "spec.containers[1].ports[0].containerPort", "spec.restartPolicy"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("error fields = %v; want %v", got, want)
	}
}

func TestPodSpecValidation(t *testing.T) {
	tests := []struct {
		name string
		spec string
		want string // first error, rendered
	}{
		{"no containers", `{"containers":[]}`, "spec.containers: Required value"},
		{"duplicate names across init", `{"initContainers":[{"name":"a","image":"x"}],"containers":[{"name":"a","image":"x"}]}`,
			`spec.containers[0].name: Duplicate value: "a"`},
		{"bad container name", `{"containers":[{"name":"A_b","image":"x"}]}`, `spec.containers[0].name: Invalid value: "A_b": a lowercase RFC 1123 label`},
		{"mount of missing volume", `{"containers":[{"name":"a","image":"x","volumeMounts":[{"name":"v","mountPath":"/v"}]}]}`,
			`spec.containers[0].volumeMounts[0].name: Not found: "v"`},
		{"duplicate volume", `{"volumes":[{"name":"v","emptyDir":{}},{"name":"v","emptyDir":{}}],"containers":[{"name":"a","image":"x"}]}`,
			`spec.volumes[1].name: Duplicate value: "v"`},
		{"two volume sources", `{"volumes":[{"name":"v","emptyDir":{},"hostPath":{"path":"/x"}}],"containers":[{"name":"a","image":"x"}]}`,
			`spec.volumes[0]: Forbidden: may not specify more than 1 volume type`},
		{"request over limit", `{"containers":[{"name":"a","image":"x","resources":{"requests":{"cpu":"2"},"limits":{"cpu":"1"}}}]}`,
			`spec.containers[0].resources.requests[cpu]: Invalid value: "2": must be less than or equal to cpu limit of 1`},
		{"negative grace", `{"terminationGracePeriodSeconds":-1,"containers":[{"name":"a","image":"x"}]}`,
			`spec.terminationGracePeriodSeconds: Invalid value: -1: must be greater than or equal to 0`},
		{"bad pull policy", `{"containers":[{"name":"a","image":"x","imagePullPolicy":"Sometimes"}]}`,
			`spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"`},
		{"env both value and valueFrom", `{"containers":[{"name":"a","image":"x","env":[{"name":"A","value":"1","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}}]}]}`,
			"spec.containers[0].env[0].valueFrom: Invalid value: \"\": may not be specified when `value` is not empty"},
		{"probe without handler", `{"containers":[{"name":"a","image":"x","readinessProbe":{"periodSeconds":5}}]}`,
			"spec.containers[0].readinessProbe: Required value: must specify a handler type"},
		{"toleration Exists with value", `{"tolerations":[{"key":"k","operator":"Exists","value":"v"}],"containers":[{"name":"a","image":"x"}]}`,
			"spec.tolerations[0].operator: Invalid value: \"v\": value must be empty when `operator` is 'Exists'"},
		{"affinity weight", `{"affinity":{"nodeAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":0,"preference":{}}]}},"containers":[{"name":"a","image":"x"}]}`,
			"spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: Invalid value: 0: must be in the range 1-100"},
	}
	for _, tt := range tests {
		p := &Pod{ObjectMeta: meta.ObjectMeta{Name: "p", Namespace: "default"}, Spec: *decode[PodSpec](t, tt.spec)}
		DefaultPod(p)
		errs := ValidatePod(p)
		if len(errs) == 0 || !strings.HasPrefix(errs[0].Error(), tt.want) {
			t.Errorf("%s: got %v; want a first error starting %q", tt.name, errs.ToAggregate(), tt.want)
		}
	}
}

func TestPodUpdate(t *testing.T) {
	old := &Pod{ObjectMeta: meta.ObjectMeta{Name: "p", Namespace: "default"},
		Spec: PodSpec{Containers: []Container{{Name: "a", Image: "x:1"}}, Tolerations: []Toleration{{Key: "k", Operator: "Exists"}}}}
	DefaultPod(old)
	image := *old
	image.Spec.Containers = []Container{old.Spec.Containers[0]}
	image.Spec.Containers[0].Image = "x:2"
	image.Spec.Tolerations = append([]Toleration{{Key: "k2", Operator: "Exists"}}, old.Spec.Tolerations...)
	if errs := ValidatePodUpdate(&image, old); len(errs) > 0 {
		t.Errorf("changing the image and adding a toleration: %v; want no errors", errs.ToAggregate())
	}
	cmd := *old
	cmd.Spec.Containers = []Container{old.Spec.Containers[0]}
	cmd.Spec.Containers[0].Command = []string{"sh"}
	errs := ValidatePodUpdate(&cmd, old)
	if len(errs) != 1 || errs[0].Field != "spec" || !strings.HasPrefix(errs[0].Detail, "pod updates may not change fields other than") {
		t.Errorf("changing the command: %v; want one Forbidden error on spec", errs.ToAggregate())
	}
	removed := *old
	removed.Spec.Tolerations = nil
	if errs := ValidatePodUpdate(&removed, old); len(errs) == 0 {
		t.Errorf("removing a toleration: got no error; want one")
	}
}

func TestServiceDefaultsAndValidation(t *testing.T) {
	s := decode[Service](t, `{"metadata":{"name":"web","namespace":"default"},"spec":{"selector":{"app":"web"},"ports":[{"port":80}]}}`)
	DefaultService(s)
	if s.Spec.Type != ServiceTypeClusterIP || s.Spec.SessionAffinity != ServiceAffinityNone ||
		s.Spec.Ports[0].Protocol != ProtocolTCP || s.Spec.Ports[0].TargetPort != intstr.FromInt(80) {
		t.Errorf("defaulted spec = %+v; want ClusterIP, None, TCP, targetPort 80", s.Spec)
	}
	if errs := ValidateService(s); len(errs) > 0 {
		t.Errorf("ValidateService = %v; want none", errs.ToAggregate())
	}
	headless := &Service{ObjectMeta: meta.ObjectMeta{Name: "h", Namespace: "default"}, Spec: ServiceSpec{ClusterIP: ClusterIPNone}}
	DefaultService(headless)
	if errs := ValidateService(headless); len(errs) > 0 {
		t.Errorf("headless service without ports: %v; want no errors", errs.ToAggregate())
	}
	noPorts := &Service{ObjectMeta: meta.ObjectMeta{Name: "n", Namespace: "default"}}
	DefaultService(noPorts)
	if got := fields(ValidateService(noPorts)); strings.Join(got, ",") != "spec.ports" {
		t.Errorf("ClusterIP service without ports: errors at %v; want spec.ports", got)
	}
	dotted := &Service{ObjectMeta: meta.ObjectMeta{Name: "a.b", Namespace: "default"}, Spec: ServiceSpec{ClusterIP: ClusterIPNone}}
	DefaultService(dotted)
	if errs := ValidateService(dotted); len(errs) != 1 || errs[0].Detail != "must not contain dots" {
		t.Errorf("service named a.b: %v; want must not contain dots", errs.ToAggregate())
	}

	old := *s
	old.Spec.ClusterIP = "10.96.0.10"
	changed := old
	changed.Spec.ClusterIP = "10.96.0.11"
	errs := ValidateServiceUpdate(&changed, &old)
	if len(errs) != 1 || errs[0].Error() != `spec.clusterIP: Invalid value: "10.96.0.11": field is immutable` {
		t.Errorf("changing clusterIP: %v; want field is immutable", errs.ToAggregate())
	}
}

func TestSecretAndConfigMap(t *testing.T) {
	s := decode[Secret](t, `{"metadata":{"name":"s","namespace":"default"},"data":{"a":"eA=="},"stringData":{"b":"y","a":"z"}}`)
	DefaultSecret(s)
	if s.Type != SecretTypeOpaque || string(s.Data["a"]) != "z" || string(s.Data["b"]) != "y" || s.StringData != nil {
		t.Errorf("defaulted secret = %+v; want type Opaque, data a=z b=y, no stringData", s)
	}
	yes := true
	imm := *s
	imm.Immutable = &yes
	changed := imm
	changed.Data = map[string][]byte{"a": []byte("new")}
	changed.Immutable = nil
	changed.Type = SecretTypeTLS
	got := fields(ValidateSecretUpdate(&changed, &imm))
	if want := "type immutable data"; strings.Join(got, " ") != want {
		t.Errorf("update of an immutable secret: errors at %v; want %s", got, want)
	}
	tls := &Secret{ObjectMeta: meta.ObjectMeta{Name: "t", Namespace: "default"}, Type: SecretTypeTLS}
	if got := fields(ValidateSecret(tls)); strings.Join(got, " ") != "data[tls.crt] data[tls.key]" {
		t.Errorf("TLS secret without keys: errors at %v; want data[tls.crt] data[tls.key]", got)
	}
	cm := &ConfigMap{ObjectMeta: meta.ObjectMeta{Name: "c", Namespace: "default"},
		Data: map[string]string{"a b": "x", "k": "v"}, BinaryData: map[string][]byte{"k": nil}}
	if got := fields(ValidateConfigMap(cm)); strings.Join(got, " ") != "data[a b] binaryData[k]" {
		t.Errorf("bad ConfigMap: errors at %v; want data[a b] binaryData[k]", got)
	}
}

func TestNamespaceAndNode(t *testing.T) {
	ns := &Namespace{ObjectMeta: meta.ObjectMeta{Name: "team-a"}}
	DefaultNamespace(ns)
	if ns.Status.Phase != NamespaceActive || len(ns.Spec.Finalizers) != 0 ||
		ns.Labels[LabelMetadataName] != "team-a" {
		t.Errorf("defaulted namespace = %+v", ns)
	}
	if errs := ValidateNamespace(ns); len(errs) > 0 {
		t.Errorf("ValidateNamespace = %v; want none", errs.ToAggregate())
	}
	old := &Node{ObjectMeta: meta.ObjectMeta{Name: "n1"}, Spec: NodeSpec{PodCIDR: "10.244.1.0/24"}}
	n := *old
	n.Spec.PodCIDR = "10.244.2.0/24"
	if errs := ValidateNodeUpdate(&n, old); len(errs) != 1 || errs[0].Field != "spec.podCIDR" {
		t.Errorf("changing podCIDR: %v; want one error at spec.podCIDR", errs.ToAggregate())
	}
	first := &Node{ObjectMeta: meta.ObjectMeta{Name: "n1"}}
	if errs := ValidateNodeUpdate(&n, first); len(errs) > 0 {
		t.Errorf("setting podCIDR the first time: %v; want none", errs.ToAggregate())
	}
}
