package core

import (
	"strings"

	"minik8s/pkg/apis/intstr"
)

// Defaulting fills what a user may leave out, with Kubernetes' values
// (k8s.io/kubernetes/pkg/apis/core/v1/defaults.go). Every Default function
// is idempotent: defaulting a defaulted object changes nothing, so the API
// server may run it on every create and update.

// DefaultPod defaults a pod: its spec as any pod template's, plus the
// fields only a real pod gets (service account, enableServiceLinks,
// requests from limits, phase Pending and its QoS class).
func DefaultPod(p *Pod) {
	DefaultPodSpec(&p.Spec)
	s := &p.Spec
	// Kubernetes sets this in the ServiceAccount admission plugin; minik8s
	// has no such plugin, and the result is the same.
	if s.ServiceAccountName == "" {
		s.ServiceAccountName = s.DeprecatedServiceAccount
	}
	if s.ServiceAccountName == "" {
		s.ServiceAccountName = DefaultServiceAccountName
	}
	if s.EnableServiceLinks == nil {
		s.EnableServiceLinks = ptr(true)
	}
	for i := range s.InitContainers {
		defaultRequestsFromLimits(&s.InitContainers[i].Resources)
	}
	for i := range s.Containers {
		defaultRequestsFromLimits(&s.Containers[i].Resources)
	}
	if p.Status.Phase == "" {
		p.Status.Phase = PodPending
	}
	if p.Status.QOSClass == "" {
		p.Status.QOSClass = PodQOSClass(s)
	}
}

// defaultRequestsFromLimits copies a limit to the request of the same
// resource when the request is unset: a container that says "at most 1
// CPU" is scheduled as needing 1 CPU.
func defaultRequestsFromLimits(r *ResourceRequirements) {
	for name, limit := range r.Limits {
		if _, ok := r.Requests[name]; ok {
			continue
		}
		if r.Requests == nil {
			r.Requests = ResourceList{}
		}
		r.Requests[name] = limit
	}
}

// DefaultPodTemplateSpec defaults the pod spec of a controller's template.
func DefaultPodTemplateSpec(t *PodTemplateSpec) { DefaultPodSpec(&t.Spec) }

// DefaultPodSpec defaults a pod spec: policies, grace period, scheduler,
// and every container, probe and volume in it.
func DefaultPodSpec(s *PodSpec) {
	if s.DNSPolicy == "" {
		s.DNSPolicy = DNSClusterFirst
	}
	if s.RestartPolicy == "" {
		s.RestartPolicy = RestartPolicyAlways
	}
	if s.TerminationGracePeriodSeconds == nil {
		s.TerminationGracePeriodSeconds = ptr(int64(DefaultTerminationGracePeriodSeconds))
	}
	if s.SchedulerName == "" {
		s.SchedulerName = DefaultSchedulerName
	}
	if s.SecurityContext == nil {
		s.SecurityContext = &PodSecurityContext{}
	}
	for i := range s.InitContainers {
		defaultContainer(&s.InitContainers[i], s.HostNetwork)
	}
	for i := range s.Containers {
		defaultContainer(&s.Containers[i], s.HostNetwork)
	}
	for i := range s.Volumes {
		defaultVolume(&s.Volumes[i])
	}
}

func defaultContainer(c *Container, hostNetwork bool) {
	if c.ImagePullPolicy == "" {
		c.ImagePullPolicy = defaultPullPolicy(c.Image)
	}
	if c.TerminationMessagePath == "" {
		c.TerminationMessagePath = DefaultTerminationMessagePath
	}
	if c.TerminationMessagePolicy == "" {
		c.TerminationMessagePolicy = TerminationMessageReadFile
	}
	for i := range c.Ports {
		p := &c.Ports[i]
		if p.Protocol == "" {
			p.Protocol = ProtocolTCP
		}
		// With the host's network the container port is the host port.
		if hostNetwork && p.HostPort == 0 {
			p.HostPort = p.ContainerPort
		}
	}
	for i := range c.Env {
		if f := c.Env[i].ValueFrom; f != nil && f.FieldRef != nil && f.FieldRef.APIVersion == "" {
			f.FieldRef.APIVersion = "v1"
		}
	}
	for _, p := range []*Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
		if p != nil {
			defaultProbe(p)
		}
	}
	if c.Lifecycle != nil {
		for _, h := range []*LifecycleHandler{c.Lifecycle.PostStart, c.Lifecycle.PreStop} {
			if h != nil && h.HTTPGet != nil {
				defaultHTTPGet(h.HTTPGet)
			}
		}
	}
}

// defaultPullPolicy is Always for ":latest" or untagged images (the tag
// may move) and IfNotPresent for a fixed tag or a digest.
func defaultPullPolicy(image string) string {
	if strings.Contains(image, "@") {
		return PullIfNotPresent
	}
	name := image
	if i := strings.LastIndex(image, "/"); i >= 0 {
		name = image[i+1:] // a registry host may carry a ":port"
	}
	tag := ""
	if i := strings.LastIndex(name, ":"); i >= 0 {
		tag = name[i+1:]
	}
	if tag == "" || tag == "latest" {
		return PullAlways
	}
	return PullIfNotPresent
}

func defaultProbe(p *Probe) {
	if p.TimeoutSeconds == 0 {
		p.TimeoutSeconds = 1
	}
	if p.PeriodSeconds == 0 {
		p.PeriodSeconds = 10
	}
	if p.SuccessThreshold == 0 {
		p.SuccessThreshold = 1
	}
	if p.FailureThreshold == 0 {
		p.FailureThreshold = 3
	}
	if p.HTTPGet != nil {
		defaultHTTPGet(p.HTTPGet)
	}
}

func defaultHTTPGet(h *HTTPGetAction) {
	if h.Path == "" {
		h.Path = "/"
	}
	if h.Scheme == "" {
		h.Scheme = URISchemeHTTP
	}
}

func defaultVolume(v *Volume) {
	s := &v.VolumeSource
	switch {
	case s.EmptyDir == nil && s.HostPath == nil && s.ConfigMap == nil && s.Secret == nil &&
		s.PersistentVolumeClaim == nil && s.DownwardAPI == nil && s.Projected == nil:
		s.EmptyDir = &EmptyDirVolumeSource{}
	case s.HostPath != nil && s.HostPath.Type == nil:
		s.HostPath.Type = ptr("")
	case s.ConfigMap != nil && s.ConfigMap.DefaultMode == nil:
		s.ConfigMap.DefaultMode = ptr(DefaultVolumeMode)
	case s.Secret != nil && s.Secret.DefaultMode == nil:
		s.Secret.DefaultMode = ptr(DefaultVolumeMode)
	case s.DownwardAPI != nil && s.DownwardAPI.DefaultMode == nil:
		s.DownwardAPI.DefaultMode = ptr(DefaultVolumeMode)
	case s.Projected != nil && s.Projected.DefaultMode == nil:
		s.Projected.DefaultMode = ptr(DefaultVolumeMode)
	}
}

// PodQOSClass derives a pod's QoS class from its containers' CPU and
// memory requests and limits: Guaranteed when every container has limits
// equal to requests for both, BestEffort when none sets any, Burstable
// otherwise. The node agent evicts BestEffort pods first.
func PodQOSClass(s *PodSpec) string {
	set, guaranteed := false, true
	for _, c := range append(append([]Container{}, s.InitContainers...), s.Containers...) {
		for _, name := range []string{ResourceCPU, ResourceMemory} {
			req, hasReq := c.Resources.Requests[name]
			lim, hasLim := c.Resources.Limits[name]
			if hasReq && !req.IsZero() || hasLim && !lim.IsZero() {
				set = true
			}
			if !hasLim || lim.IsZero() || hasReq && req.Cmp(lim) != 0 {
				guaranteed = false
			}
		}
	}
	switch {
	case !set:
		return QOSBestEffort
	case guaranteed:
		return QOSGuaranteed
	}
	return QOSBurstable
}

// DefaultNamespace adds the "kubernetes" finalizer, the Active phase and
// the kubernetes.io/metadata.name label, as Kubernetes does.
func DefaultNamespace(n *Namespace) {
	if n.Status.Phase == "" {
		n.Status.Phase = NamespaceActive
	}
	if n.Name != "" {
		if n.Labels == nil {
			n.Labels = map[string]string{}
		}
		n.Labels[LabelMetadataName] = n.Name
	}
}

// DefaultNode sets allocatable to capacity when the node agent reports
// only capacity.
func DefaultNode(n *Node) {
	if n.Status.Allocatable == nil && n.Status.Capacity != nil {
		n.Status.Allocatable = ResourceList{}
		for k, v := range n.Status.Capacity {
			n.Status.Allocatable[k] = v
		}
	}
}

// DefaultService defaults type ClusterIP, session affinity None, port
// protocol TCP, target port = port, and the traffic policies.
func DefaultService(s *Service) {
	sp := &s.Spec
	if sp.Type == "" {
		sp.Type = ServiceTypeClusterIP
	}
	if sp.SessionAffinity == "" {
		sp.SessionAffinity = ServiceAffinityNone
	}
	if sp.SessionAffinity == ServiceAffinityClientIP &&
		(sp.SessionAffinityConfig == nil || sp.SessionAffinityConfig.ClientIP == nil || sp.SessionAffinityConfig.ClientIP.TimeoutSeconds == nil) {
		sp.SessionAffinityConfig = &SessionAffinityConfig{ClientIP: &ClientIPConfig{TimeoutSeconds: ptr(int32(10800))}}
	}
	for i := range sp.Ports {
		p := &sp.Ports[i]
		if p.Protocol == "" {
			p.Protocol = ProtocolTCP
		}
		if p.TargetPort.IsZero() {
			p.TargetPort = intstr.FromInt(int(p.Port))
		}
	}
	if (sp.Type == ServiceTypeNodePort || sp.Type == ServiceTypeLoadBalancer) && sp.ExternalTrafficPolicy == "" {
		sp.ExternalTrafficPolicy = TrafficPolicyCluster
	}
	if sp.Type != ServiceTypeExternalName && sp.InternalTrafficPolicy == nil {
		sp.InternalTrafficPolicy = ptr(TrafficPolicyCluster)
	}
	if sp.Type == ServiceTypeLoadBalancer && sp.AllocateLoadBalancerNodePorts == nil {
		sp.AllocateLoadBalancerNodePorts = ptr(true)
	}
}

// DefaultEndpoints defaults port protocols to TCP.
func DefaultEndpoints(e *Endpoints) {
	for i := range e.Subsets {
		for j := range e.Subsets[i].Ports {
			if e.Subsets[i].Ports[j].Protocol == "" {
				e.Subsets[i].Ports[j].Protocol = ProtocolTCP
			}
		}
	}
}

// DefaultSecret sets type Opaque and merges stringData into data (string
// values win, as in Kubernetes), clearing stringData.
func DefaultSecret(s *Secret) {
	if s.Type == "" {
		s.Type = SecretTypeOpaque
	}
	if len(s.StringData) > 0 {
		if s.Data == nil {
			s.Data = map[string][]byte{}
		}
		for k, v := range s.StringData {
			s.Data[k] = []byte(v)
		}
	}
	s.StringData = nil
}

// DefaultPersistentVolume defaults the reclaim policy Retain, volume mode
// Filesystem and phase Pending.
func DefaultPersistentVolume(pv *PersistentVolume) {
	if pv.Spec.PersistentVolumeReclaimPolicy == "" {
		pv.Spec.PersistentVolumeReclaimPolicy = PersistentVolumeReclaimRetain
	}
	if pv.Spec.VolumeMode == nil {
		pv.Spec.VolumeMode = ptr(PersistentVolumeFilesystem)
	}
	if pv.Status.Phase == "" {
		pv.Status.Phase = VolumePending
	}
}

// DefaultPersistentVolumeClaim defaults volume mode Filesystem and phase
// Pending.
func DefaultPersistentVolumeClaim(c *PersistentVolumeClaim) {
	if c.Spec.VolumeMode == nil {
		c.Spec.VolumeMode = ptr(PersistentVolumeFilesystem)
	}
	if c.Status.Phase == "" {
		c.Status.Phase = ClaimPending
	}
}

func ptr[T any](v T) *T { return &v }
