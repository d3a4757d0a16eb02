package core

import (
	"fmt"
	"path"
	"reflect"
	"slices"
	"strings"

	"minik8s/pkg/apis/field"
	"minik8s/pkg/apis/intstr"
	"minik8s/pkg/apis/validation"
)

// Allowed values of the pod enums, in Kubernetes' order.
var (
	restartPolicies           = []string{RestartPolicyAlways, RestartPolicyOnFailure, RestartPolicyNever}
	pullPolicies              = []string{PullAlways, PullIfNotPresent, PullNever}
	dnsPolicies               = []string{DNSClusterFirstWithHostNet, DNSClusterFirst, DNSDefault, DNSNone}
	terminationMessagePolices = []string{TerminationMessageReadFile, TerminationMessageFallbackToLogsOnError}
	protocols                 = []string{ProtocolSCTP, ProtocolTCP, ProtocolUDP}
	uriSchemes                = []string{URISchemeHTTP, URISchemeHTTPS}
	taintEffects              = []string{TaintEffectNoSchedule, TaintEffectPreferNoSchedule, TaintEffectNoExecute}
	tolerationOperators       = []string{TolerationOpEqual, TolerationOpExists}
	nodeSelectorOperators     = []string{NodeSelectorOpDoesNotExist, NodeSelectorOpExists, NodeSelectorOpGt, NodeSelectorOpIn, NodeSelectorOpLt, NodeSelectorOpNotIn}
	hostPathTypes             = []string{"", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice"}
	storageMedia              = []string{"", "Memory", "HugePages"}
)

// ValidatePod checks a whole pod: metadata and spec.
func ValidatePod(p *Pod) field.ErrorList {
	errs := validation.ValidateObjectMeta(&p.ObjectMeta, true, validation.NameIsDNSSubdomain, field.NewPath("metadata"))
	return append(errs, ValidatePodSpec(&p.Spec, field.NewPath("spec"))...)
}

// ValidatePodTemplateSpec checks a controller's pod template: its labels
// and annotations, and its spec.
func ValidatePodTemplateSpec(t *PodTemplateSpec, p *field.Path) field.ErrorList {
	errs := validation.ValidateLabels(t.Labels, p.Child("metadata", "labels"))
	errs = append(errs, validation.ValidateAnnotations(t.Annotations, p.Child("metadata", "annotations"))...)
	return append(errs, ValidatePodSpec(&t.Spec, p.Child("spec"))...)
}

// ValidatePodSpec checks a pod spec, reporting every bad field.
func ValidatePodSpec(s *PodSpec, p *field.Path) field.ErrorList {
	volumes, errs := validateVolumes(s.Volumes, p.Child("volumes"))
	errs = append(errs, validateContainers(s, volumes, p)...)
	errs = append(errs, validation.ValidateEnum(s.RestartPolicy, restartPolicies, p.Child("restartPolicy"))...)
	errs = append(errs, validation.ValidateEnum(s.DNSPolicy, dnsPolicies, p.Child("dnsPolicy"))...)
	errs = append(errs, validation.ValidateLabels(s.NodeSelector, p.Child("nodeSelector"))...)
	errs = append(errs, validation.ValidateNonnegativePtr(s.TerminationGracePeriodSeconds, p.Child("terminationGracePeriodSeconds"))...)
	if d := s.ActiveDeadlineSeconds; d != nil && (*d < 1 || *d > 1<<31-1) {
		errs = append(errs, field.Invalid(p.Child("activeDeadlineSeconds"), *d, "must be between 1 and 2147483647, inclusive"))
	}
	if s.ServiceAccountName != "" {
		errs = append(errs, validation.ValidateDNS1123Subdomain(s.ServiceAccountName, p.Child("serviceAccountName"))...)
	}
	if s.NodeName != "" {
		errs = append(errs, validation.ValidateDNS1123Subdomain(s.NodeName, p.Child("nodeName"))...)
	}
	if s.Hostname != "" {
		errs = append(errs, validation.ValidateDNS1123Label(s.Hostname, p.Child("hostname"))...)
	}
	if s.Subdomain != "" {
		errs = append(errs, validation.ValidateDNS1123Label(s.Subdomain, p.Child("subdomain"))...)
	}
	if s.SchedulerName != "" {
		errs = append(errs, validation.ValidateDNS1123Subdomain(s.SchedulerName, p.Child("schedulerName"))...)
	}
	for i, r := range s.ImagePullSecrets {
		if r.Name == "" {
			errs = append(errs, field.Required(p.Child("imagePullSecrets").Index(i).Child("name"), ""))
		}
	}
	for i, t := range s.Tolerations {
		errs = append(errs, validateToleration(t, p.Child("tolerations").Index(i))...)
	}
	if s.Affinity != nil && s.Affinity.NodeAffinity != nil {
		errs = append(errs, validateNodeAffinity(s.Affinity.NodeAffinity, p.Child("affinity", "nodeAffinity"))...)
	}
	for i, a := range s.HostAliases {
		errs = append(errs, validation.InvalidEach(a.IP, validation.IsValidIP(a.IP), p.Child("hostAliases").Index(i).Child("ip"))...)
	}
	if s.DNSPolicy == DNSNone && (s.DNSConfig == nil || len(s.DNSConfig.Nameservers) == 0) {
		errs = append(errs, field.Required(p.Child("dnsConfig", "nameservers"), "must provide at least one DNS nameserver when `dnsPolicy` is None"))
	}
	return errs
}

// validateVolumes checks the pod's volumes and returns the set of names
// for the mounts to refer to.
func validateVolumes(vols []Volume, p *field.Path) (map[string]bool, field.ErrorList) {
	var errs field.ErrorList
	names := map[string]bool{}
	for i, v := range vols {
		vp := p.Index(i)
		if v.Name == "" {
			errs = append(errs, field.Required(vp.Child("name"), ""))
		} else {
			errs = append(errs, validation.ValidateDNS1123Label(v.Name, vp.Child("name"))...)
		}
		if names[v.Name] {
			errs = append(errs, field.Duplicate(vp.Child("name"), v.Name))
		}
		names[v.Name] = true
		errs = append(errs, validateVolumeSource(&v.VolumeSource, vp)...)
	}
	return names, errs
}

func validateVolumeSource(s *VolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	n := 0
	if s.EmptyDir != nil {
		n++
		if m := s.EmptyDir.Medium; !slices.Contains(storageMedia, m) {
			errs = append(errs, field.NotSupported(p.Child("emptyDir", "medium"), m, storageMedia[1:]))
		}
		if q := s.EmptyDir.SizeLimit; q != nil && q.Sign() < 0 {
			errs = append(errs, field.Invalid(p.Child("emptyDir", "sizeLimit"), q.String(), "must be greater than or equal to 0"))
		}
	}
	if s.HostPath != nil {
		n++
		errs = append(errs, validateHostPath(s.HostPath, p.Child("hostPath"))...)
	}
	if s.ConfigMap != nil {
		n++
		cp := p.Child("configMap")
		if s.ConfigMap.Name == "" {
			errs = append(errs, field.Required(cp.Child("name"), ""))
		}
		errs = append(errs, validateMode(s.ConfigMap.DefaultMode, cp.Child("defaultMode"))...)
		errs = append(errs, validateKeyToPaths(s.ConfigMap.Items, cp.Child("items"))...)
	}
	if s.Secret != nil {
		n++
		sp := p.Child("secret")
		if s.Secret.SecretName == "" {
			errs = append(errs, field.Required(sp.Child("secretName"), ""))
		}
		errs = append(errs, validateMode(s.Secret.DefaultMode, sp.Child("defaultMode"))...)
		errs = append(errs, validateKeyToPaths(s.Secret.Items, sp.Child("items"))...)
	}
	if s.PersistentVolumeClaim != nil {
		n++
		if s.PersistentVolumeClaim.ClaimName == "" {
			errs = append(errs, field.Required(p.Child("persistentVolumeClaim", "claimName"), ""))
		}
	}
	if s.DownwardAPI != nil {
		n++
		dp := p.Child("downwardAPI")
		errs = append(errs, validateMode(s.DownwardAPI.DefaultMode, dp.Child("defaultMode"))...)
		for i, f := range s.DownwardAPI.Items {
			errs = append(errs, validateLocalPath(f.Path, dp.Child("items").Index(i).Child("path"))...)
		}
	}
	if s.Projected != nil {
		n++
		errs = append(errs, validateMode(s.Projected.DefaultMode, p.Child("projected", "defaultMode"))...)
	}
	switch {
	case n == 0:
		errs = append(errs, field.Required(p, "must specify a volume type"))
	case n > 1:
		errs = append(errs, field.Forbidden(p, "may not specify more than 1 volume type"))
	}
	return errs
}

func validateHostPath(h *HostPathVolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if h.Path == "" {
		errs = append(errs, field.Required(p.Child("path"), ""))
	}
	if h.Type != nil && !slices.Contains(hostPathTypes, *h.Type) {
		errs = append(errs, field.NotSupported(p.Child("type"), *h.Type, hostPathTypes[1:]))
	}
	return errs
}

func validateMode(m *int32, p *field.Path) field.ErrorList {
	if m != nil && (*m < 0 || *m > 0o777) {
		return field.ErrorList{field.Invalid(p, *m, "must be a number between 0 and 0777 (octal), both inclusive")}
	}
	return nil
}

func validateKeyToPaths(items []KeyToPath, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, it := range items {
		ip := p.Index(i)
		if it.Key == "" {
			errs = append(errs, field.Required(ip.Child("key"), ""))
		}
		errs = append(errs, validateLocalPath(it.Path, ip.Child("path"))...)
		errs = append(errs, validateMode(it.Mode, ip.Child("mode"))...)
	}
	return errs
}

// validateLocalPath checks a file path inside a volume: relative and
// never escaping with "..".
func validateLocalPath(s string, p *field.Path) field.ErrorList {
	switch {
	case s == "":
		return field.ErrorList{field.Required(p, "")}
	case path.IsAbs(s):
		return field.ErrorList{field.Invalid(p, s, "must be a relative path")}
	case slices.Contains(strings.Split(s, "/"), ".."):
		return field.ErrorList{field.Invalid(p, s, "must not contain '..'")}
	}
	return nil
}

// validateContainers checks init and app containers; names are unique
// across both lists, as in Kubernetes.
func validateContainers(s *PodSpec, volumes map[string]bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := map[string]bool{}
	portNames := map[string]bool{}
	for i := range s.InitContainers {
		c := &s.InitContainers[i]
		cp := p.Child("initContainers").Index(i)
		errs = append(errs, validateContainer(c, volumes, names, portNames, s.HostNetwork, cp)...)
		if c.RestartPolicy != nil && *c.RestartPolicy != RestartPolicyAlways {
			errs = append(errs, field.NotSupported(cp.Child("restartPolicy"), *c.RestartPolicy, []string{RestartPolicyAlways}))
		}
		if c.RestartPolicy == nil {
			// Only sidecars (restartPolicy Always) may have these probes.
			if c.LivenessProbe != nil {
				errs = append(errs, field.Forbidden(cp.Child("livenessProbe"), "may not be set for init containers without restartPolicy=Always"))
			}
			if c.ReadinessProbe != nil {
				errs = append(errs, field.Forbidden(cp.Child("readinessProbe"), "may not be set for init containers without restartPolicy=Always"))
			}
			if c.StartupProbe != nil {
				errs = append(errs, field.Forbidden(cp.Child("startupProbe"), "may not be set for init containers without restartPolicy=Always"))
			}
		}
	}
	if len(s.Containers) == 0 {
		errs = append(errs, field.Required(p.Child("containers"), ""))
	}
	for i := range s.Containers {
		c := &s.Containers[i]
		cp := p.Child("containers").Index(i)
		errs = append(errs, validateContainer(c, volumes, names, portNames, s.HostNetwork, cp)...)
		if c.RestartPolicy != nil {
			errs = append(errs, field.Forbidden(cp.Child("restartPolicy"), "may not be set for non-init containers"))
		}
	}
	return errs
}

func validateContainer(c *Container, volumes, names, portNames map[string]bool, hostNetwork bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch {
	case c.Name == "":
		errs = append(errs, field.Required(p.Child("name"), ""))
	case names[c.Name]:
		errs = append(errs, field.Duplicate(p.Child("name"), c.Name))
	default:
		errs = append(errs, validation.ValidateDNS1123Label(c.Name, p.Child("name"))...)
	}
	names[c.Name] = true
	if c.Image == "" {
		errs = append(errs, field.Required(p.Child("image"), ""))
	} else if strings.TrimSpace(c.Image) != c.Image {
		errs = append(errs, field.Invalid(p.Child("image"), c.Image, "must not have leading or trailing whitespace"))
	}
	errs = append(errs, validation.ValidateEnum(c.ImagePullPolicy, pullPolicies, p.Child("imagePullPolicy"))...)
	errs = append(errs, validation.ValidateEnum(c.TerminationMessagePolicy, terminationMessagePolices, p.Child("terminationMessagePolicy"))...)
	errs = append(errs, validateContainerPorts(c.Ports, portNames, hostNetwork, p.Child("ports"))...)
	errs = append(errs, validateEnv(c.Env, p.Child("env"))...)
	errs = append(errs, validateEnvFrom(c.EnvFrom, p.Child("envFrom"))...)
	errs = append(errs, ValidateResourceRequirements(&c.Resources, p.Child("resources"))...)
	errs = append(errs, validateVolumeMounts(c.VolumeMounts, volumes, p.Child("volumeMounts"))...)
	errs = append(errs, validateProbe(c.LivenessProbe, true, p.Child("livenessProbe"))...)
	errs = append(errs, validateProbe(c.ReadinessProbe, false, p.Child("readinessProbe"))...)
	errs = append(errs, validateProbe(c.StartupProbe, true, p.Child("startupProbe"))...)
	if c.Lifecycle != nil {
		errs = append(errs, validateLifecycleHandler(c.Lifecycle.PostStart, p.Child("lifecycle", "postStart"))...)
		errs = append(errs, validateLifecycleHandler(c.Lifecycle.PreStop, p.Child("lifecycle", "preStop"))...)
	}
	return errs
}

func validateContainerPorts(ports []ContainerPort, names map[string]bool, hostNetwork bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, port := range ports {
		pp := p.Index(i)
		if port.Name != "" {
			errs = append(errs, validation.InvalidEach(port.Name, validation.IsValidPortName(port.Name), pp.Child("name"))...)
			if names[port.Name] {
				errs = append(errs, field.Duplicate(pp.Child("name"), port.Name))
			}
			names[port.Name] = true
		}
		if port.ContainerPort == 0 {
			errs = append(errs, field.Required(pp.Child("containerPort"), ""))
		} else {
			errs = append(errs, validation.InvalidEach(port.ContainerPort, validation.IsValidPortNum(int(port.ContainerPort)), pp.Child("containerPort"))...)
		}
		if port.HostPort != 0 {
			errs = append(errs, validation.InvalidEach(port.HostPort, validation.IsValidPortNum(int(port.HostPort)), pp.Child("hostPort"))...)
		}
		if hostNetwork && port.HostPort != port.ContainerPort {
			errs = append(errs, field.Invalid(pp.Child("containerPort"), port.ContainerPort, "must match `hostPort` when `hostNetwork` is true"))
		}
		if port.HostIP != "" {
			errs = append(errs, validation.InvalidEach(port.HostIP, validation.IsValidIP(port.HostIP), pp.Child("hostIP"))...)
		}
		errs = append(errs, validation.ValidateEnum(port.Protocol, protocols, pp.Child("protocol"))...)
	}
	return errs
}

func validateEnv(env []EnvVar, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, e := range env {
		ep := p.Index(i)
		if e.Name == "" {
			errs = append(errs, field.Required(ep.Child("name"), ""))
		} else {
			errs = append(errs, validation.InvalidEach(e.Name, validation.IsEnvVarName(e.Name), ep.Child("name"))...)
		}
		if e.ValueFrom == nil {
			continue
		}
		vp := ep.Child("valueFrom")
		f := e.ValueFrom
		n := 0
		if f.FieldRef != nil {
			n++
			if f.FieldRef.FieldPath == "" {
				errs = append(errs, field.Required(vp.Child("fieldRef", "fieldPath"), ""))
			}
		}
		if f.ResourceFieldRef != nil {
			n++
			if f.ResourceFieldRef.Resource == "" {
				errs = append(errs, field.Required(vp.Child("resourceFieldRef", "resource"), ""))
			}
		}
		if f.ConfigMapKeyRef != nil {
			n++
			errs = append(errs, validateKeySelector(f.ConfigMapKeyRef.Name, f.ConfigMapKeyRef.Key, vp.Child("configMapKeyRef"))...)
		}
		if f.SecretKeyRef != nil {
			n++
			errs = append(errs, validateKeySelector(f.SecretKeyRef.Name, f.SecretKeyRef.Key, vp.Child("secretKeyRef"))...)
		}
		switch {
		case n == 0:
			errs = append(errs, field.Invalid(vp, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"))
		case n > 1:
			errs = append(errs, field.Invalid(vp, "", "may not have more than one field specified at a time"))
		case e.Value != "":
			errs = append(errs, field.Invalid(vp, "", "may not be specified when `value` is not empty"))
		}
	}
	return errs
}

func validateKeySelector(name, key string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	}
	if key == "" {
		errs = append(errs, field.Required(p.Child("key"), ""))
	} else {
		errs = append(errs, validation.InvalidEach(key, validation.IsConfigMapKey(key), p.Child("key"))...)
	}
	return errs
}

func validateEnvFrom(from []EnvFromSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, f := range from {
		fp := p.Index(i)
		if f.Prefix != "" {
			errs = append(errs, validation.InvalidEach(f.Prefix, validation.IsEnvVarName(f.Prefix), fp.Child("prefix"))...)
		}
		n := 0
		if f.ConfigMapRef != nil {
			n++
			if f.ConfigMapRef.Name == "" {
				errs = append(errs, field.Required(fp.Child("configMapRef", "name"), ""))
			}
		}
		if f.SecretRef != nil {
			n++
			if f.SecretRef.Name == "" {
				errs = append(errs, field.Required(fp.Child("secretRef", "name"), ""))
			}
		}
		switch {
		case n == 0:
			errs = append(errs, field.Invalid(fp, "", "must specify one of: `configMapRef` or `secretRef`"))
		case n > 1:
			errs = append(errs, field.Invalid(fp, "", "may not have more than one field specified at a time"))
		}
	}
	return errs
}

// ValidateResourceRequirements checks resource names and amounts, and that
// no request exceeds its limit.
func ValidateResourceRequirements(r *ResourceRequirements, p *field.Path) field.ErrorList {
	errs := validateResourceList(r.Limits, p.Child("limits"))
	errs = append(errs, validateResourceList(r.Requests, p.Child("requests"))...)
	for _, name := range sortedResourceNames(r.Requests) {
		req := r.Requests[name]
		lim, ok := r.Limits[name]
		if ok && req.Cmp(lim) > 0 {
			errs = append(errs, field.Invalid(p.Child("requests").Key(name), req.String(),
				fmt.Sprintf("must be less than or equal to %s limit of %s", name, lim.String())))
		}
	}
	return errs
}

func validateResourceList(l ResourceList, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, name := range sortedResourceNames(l) {
		q := l[name]
		rp := p.Key(name)
		errs = append(errs, validateResourceName(name, rp)...)
		if q.Sign() < 0 {
			errs = append(errs, field.Invalid(rp, q.String(), "must be greater than or equal to 0"))
		}
	}
	return errs
}

// validateResourceName accepts the standard names and any qualified name
// containing a "/" (extended resources such as example.com/gpu).
func validateResourceName(name string, p *field.Path) field.ErrorList {
	switch name {
	case ResourceCPU, ResourceMemory, ResourceEphemeralStorage, ResourceStorage, ResourcePods:
		return nil
	}
	if strings.HasPrefix(name, "hugepages-") {
		return nil
	}
	if msgs := validation.IsQualifiedName(name); len(msgs) > 0 {
		return validation.InvalidEach(name, msgs, p)
	}
	if !strings.Contains(name, "/") {
		return field.ErrorList{field.Invalid(p, name, "must be a standard resource type or fully qualified")}
	}
	return nil
}

func sortedResourceNames(l ResourceList) []string {
	names := make([]string, 0, len(l))
	for k := range l {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

func validateVolumeMounts(mounts []VolumeMount, volumes map[string]bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	paths := map[string]bool{}
	for i, m := range mounts {
		mp := p.Index(i)
		switch {
		case m.Name == "":
			errs = append(errs, field.Required(mp.Child("name"), ""))
		case !volumes[m.Name]:
			errs = append(errs, &field.Error{Type: field.ErrorTypeNotFound, Field: mp.Child("name").String(), BadValue: m.Name})
		}
		switch {
		case m.MountPath == "":
			errs = append(errs, field.Required(mp.Child("mountPath"), ""))
		case paths[m.MountPath]:
			errs = append(errs, field.Invalid(mp.Child("mountPath"), m.MountPath, "must be unique"))
		}
		paths[m.MountPath] = true
		if m.SubPath != "" {
			if path.IsAbs(m.SubPath) || slices.Contains(strings.Split(m.SubPath, "/"), "..") {
				errs = append(errs, field.Invalid(mp.Child("subPath"), m.SubPath, "must be a relative path without '..'"))
			}
		}
	}
	return errs
}

// validateProbe checks one probe; liveness and startup probes must have a
// success threshold of 1 (one success is enough to stop restarting).
func validateProbe(pr *Probe, mustSucceedOnce bool, p *field.Path) field.ErrorList {
	if pr == nil {
		return nil
	}
	errs := validateHandler(pr.Exec, pr.HTTPGet, pr.TCPSocket, pr.GRPC != nil, nil, p)
	if pr.GRPC != nil {
		errs = append(errs, validation.InvalidEach(pr.GRPC.Port, validation.IsValidPortNum(int(pr.GRPC.Port)), p.Child("grpc", "port"))...)
	}
	errs = append(errs, validation.ValidateNonnegative(pr.InitialDelaySeconds, p.Child("initialDelaySeconds"))...)
	errs = append(errs, validation.ValidateNonnegative(pr.TimeoutSeconds, p.Child("timeoutSeconds"))...)
	errs = append(errs, validation.ValidateNonnegative(pr.PeriodSeconds, p.Child("periodSeconds"))...)
	errs = append(errs, validation.ValidateNonnegative(pr.SuccessThreshold, p.Child("successThreshold"))...)
	errs = append(errs, validation.ValidateNonnegative(pr.FailureThreshold, p.Child("failureThreshold"))...)
	if mustSucceedOnce && pr.SuccessThreshold != 1 {
		errs = append(errs, field.Invalid(p.Child("successThreshold"), pr.SuccessThreshold, "must be 1"))
	}
	if g := pr.TerminationGracePeriodSeconds; g != nil && *g <= 0 {
		errs = append(errs, field.Invalid(p.Child("terminationGracePeriodSeconds"), *g, "must be greater than 0"))
	}
	return errs
}

func validateLifecycleHandler(h *LifecycleHandler, p *field.Path) field.ErrorList {
	if h == nil {
		return nil
	}
	return validateHandler(h.Exec, h.HTTPGet, h.TCPSocket, false, h.Sleep, p)
}

// validateHandler checks that exactly one action is given, and checks it.
func validateHandler(exec *ExecAction, get *HTTPGetAction, tcp *TCPSocketAction, grpc bool, sleep *SleepAction, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	n := 0
	if exec != nil {
		n++
		if len(exec.Command) == 0 {
			errs = append(errs, field.Required(p.Child("exec", "command"), ""))
		}
	}
	if get != nil {
		n++
		errs = append(errs, validatePortNumOrName(get.Port, p.Child("httpGet", "port"))...)
		errs = append(errs, validation.ValidateEnum(get.Scheme, uriSchemes, p.Child("httpGet", "scheme"))...)
	}
	if tcp != nil {
		n++
		errs = append(errs, validatePortNumOrName(tcp.Port, p.Child("tcpSocket", "port"))...)
	}
	if grpc {
		n++
	}
	if sleep != nil {
		n++
		errs = append(errs, validation.ValidateNonnegative(sleep.Seconds, p.Child("sleep", "seconds"))...)
	}
	switch {
	case n == 0:
		errs = append(errs, field.Required(p, "must specify a handler type"))
	case n > 1:
		errs = append(errs, field.Forbidden(p, "may not specify more than 1 handler type"))
	}
	return errs
}

// validatePortNumOrName checks a port given by number or by name.
func validatePortNumOrName(port intstr.IntOrString, p *field.Path) field.ErrorList {
	if port.Type == intstr.Int {
		return validation.InvalidEach(port.IntVal, validation.IsValidPortNum(int(port.IntVal)), p)
	}
	if port.StrVal == "" {
		return field.ErrorList{field.Required(p, "")}
	}
	return validation.InvalidEach(port.StrVal, validation.IsValidPortName(port.StrVal), p)
}

func validateToleration(t Toleration, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if t.Key != "" {
		errs = append(errs, validation.ValidateQualifiedName(t.Key, p.Child("key"))...)
	}
	op := t.Operator
	switch op {
	case "", TolerationOpEqual:
		if t.Key == "" {
			errs = append(errs, field.Invalid(p.Child("operator"), op, "operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
		}
		errs = append(errs, validation.InvalidEach(t.Value, validation.IsValidLabelValue(t.Value), p.Child("value"))...)
	case TolerationOpExists:
		if t.Value != "" {
			errs = append(errs, field.Invalid(p.Child("operator"), t.Value, "value must be empty when `operator` is 'Exists'"))
		}
	default:
		errs = append(errs, field.NotSupported(p.Child("operator"), op, tolerationOperators))
	}
	if t.Effect != "" && !slices.Contains(taintEffects, t.Effect) {
		errs = append(errs, field.NotSupported(p.Child("effect"), t.Effect, taintEffects))
	}
	if t.TolerationSeconds != nil && t.Effect != TaintEffectNoExecute {
		errs = append(errs, field.Invalid(p.Child("effect"), t.Effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"))
	}
	return errs
}

func validateNodeAffinity(na *NodeAffinity, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if r := na.RequiredDuringSchedulingIgnoredDuringExecution; r != nil {
		errs = append(errs, ValidateNodeSelector(r, p.Child("requiredDuringSchedulingIgnoredDuringExecution"))...)
	}
	for i, t := range na.PreferredDuringSchedulingIgnoredDuringExecution {
		tp := p.Child("preferredDuringSchedulingIgnoredDuringExecution").Index(i)
		if t.Weight < 1 || t.Weight > 100 {
			errs = append(errs, field.Invalid(tp.Child("weight"), t.Weight, "must be in the range 1-100"))
		}
		errs = append(errs, validateNodeSelectorTerm(t.Preference, tp.Child("preference"))...)
	}
	return errs
}

// ValidateNodeSelector checks a required node selector (node affinity, or
// a PersistentVolume's node affinity).
func ValidateNodeSelector(ns *NodeSelector, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(ns.NodeSelectorTerms) == 0 {
		errs = append(errs, field.Required(p.Child("nodeSelectorTerms"), "must have at least one node selector term"))
	}
	for i, t := range ns.NodeSelectorTerms {
		errs = append(errs, validateNodeSelectorTerm(t, p.Child("nodeSelectorTerms").Index(i))...)
	}
	return errs
}

func validateNodeSelectorTerm(t NodeSelectorTerm, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, r := range t.MatchExpressions {
		rp := p.Child("matchExpressions").Index(i)
		errs = append(errs, validation.ValidateQualifiedName(r.Key, rp.Child("key"))...)
		errs = append(errs, validateNodeSelectorRequirement(r, rp)...)
	}
	for i, r := range t.MatchFields {
		rp := p.Child("matchFields").Index(i)
		if r.Key != "metadata.name" {
			errs = append(errs, field.NotSupported(rp.Child("key"), r.Key, []string{"metadata.name"}))
		}
		if r.Operator != NodeSelectorOpIn && r.Operator != NodeSelectorOpNotIn {
			errs = append(errs, field.NotSupported(rp.Child("operator"), r.Operator, []string{NodeSelectorOpIn, NodeSelectorOpNotIn}))
		} else if len(r.Values) != 1 {
			errs = append(errs, field.Required(rp.Child("values"), "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"))
		}
	}
	return errs
}

func validateNodeSelectorRequirement(r NodeSelectorRequirement, p *field.Path) field.ErrorList {
	switch r.Operator {
	case NodeSelectorOpIn, NodeSelectorOpNotIn:
		if len(r.Values) == 0 {
			return field.ErrorList{field.Required(p.Child("values"), "must be specified when `operator` is 'In' or 'NotIn'")}
		}
	case NodeSelectorOpExists, NodeSelectorOpDoesNotExist:
		if len(r.Values) > 0 {
			return field.ErrorList{field.Forbidden(p.Child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")}
		}
	case NodeSelectorOpGt, NodeSelectorOpLt:
		if len(r.Values) != 1 {
			return field.ErrorList{field.Required(p.Child("values"), "must be specified single value when `operator` is 'Lt' or 'Gt'")}
		}
	default:
		return field.ErrorList{field.NotSupported(p.Child("operator"), r.Operator, nodeSelectorOperators)}
	}
	return nil
}

// podUpdateMessage is Kubernetes' wording for a forbidden pod spec change.
const podUpdateMessage = "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"

// ValidatePodUpdate checks that an update changes only what Kubernetes
// lets change in a running pod: container images, activeDeadlineSeconds
// (set or shortened), added tolerations and terminationGracePeriodSeconds.
// Binding (spec.nodeName) goes through the binding subresource instead.
func ValidatePodUpdate(newPod, oldPod *Pod) field.ErrorList {
	errs := validation.ValidateObjectMetaUpdate(&newPod.ObjectMeta, &oldPod.ObjectMeta, field.NewPath("metadata"))
	specPath := field.NewPath("spec")
	if d, old := newPod.Spec.ActiveDeadlineSeconds, oldPod.Spec.ActiveDeadlineSeconds; old != nil && (d == nil || *d > *old) {
		errs = append(errs, field.Invalid(specPath.Child("activeDeadlineSeconds"), d, "must be less than or equal to previous value"))
	}
	for _, t := range oldPod.Spec.Tolerations {
		if !slices.ContainsFunc(newPod.Spec.Tolerations, func(n Toleration) bool { return reflect.DeepEqual(n, t) }) {
			errs = append(errs, field.Forbidden(specPath.Child("tolerations"), "existing toleration can not be modified except its tolerationSeconds"))
			break
		}
	}
	// Copy the mutable fields from the new spec into the old one: whatever
	// still differs was changed and must not be.
	mutated := oldPod.Spec
	mutated.Containers = withImages(oldPod.Spec.Containers, newPod.Spec.Containers)
	mutated.InitContainers = withImages(oldPod.Spec.InitContainers, newPod.Spec.InitContainers)
	mutated.ActiveDeadlineSeconds = newPod.Spec.ActiveDeadlineSeconds
	mutated.Tolerations = newPod.Spec.Tolerations
	mutated.TerminationGracePeriodSeconds = newPod.Spec.TerminationGracePeriodSeconds
	if !reflect.DeepEqual(mutated, newPod.Spec) {
		errs = append(errs, field.Forbidden(specPath, podUpdateMessage))
	}
	return errs
}

// withImages returns a copy of old with each container's image taken from
// the container at the same index of new (when the lengths match).
func withImages(old, new []Container) []Container {
	if len(old) != len(new) {
		return old
	}
	out := slices.Clone(old)
	for i := range out {
		out[i].Image = new[i].Image
	}
	return out
}
