package core

import (
	"maps"
	"reflect"
	"slices"

	"minik8s/pkg/apis/field"
	"minik8s/pkg/apis/intstr"
	"minik8s/pkg/apis/validation"
)

var metaPath = field.NewPath("metadata")

var (
	serviceTypes       = []string{ServiceTypeClusterIP, ServiceTypeExternalName, ServiceTypeLoadBalancer, ServiceTypeNodePort}
	sessionAffinities  = []string{ServiceAffinityClientIP, ServiceAffinityNone}
	trafficPolicies    = []string{TrafficPolicyCluster, TrafficPolicyLocal}
	namespacePhases    = []string{NamespaceActive, NamespaceTerminating}
	eventTypes         = []string{EventTypeNormal, EventTypeWarning}
	accessModes        = []string{ReadOnlyMany, ReadWriteMany, ReadWriteOnce, ReadWriteOncePod}
	reclaimPolicies    = []string{PersistentVolumeReclaimDelete, PersistentVolumeReclaimRecycle, PersistentVolumeReclaimRetain}
	volumeModes        = []string{PersistentVolumeBlock, PersistentVolumeFilesystem}
	ipFamilies         = []string{IPv4Protocol, IPv6Protocol}
	ipFamilyPolicies   = []string{IPFamilyPolicyPreferDual, IPFamilyPolicyRequireDual, IPFamilyPolicySingleStack}
	maxConfigDataBytes = 1024 * 1024 // ConfigMap and Secret data, as in Kubernetes
)

// ValidateNamespace checks a namespace: its name is a DNS label and its
// finalizers are qualified names.
func ValidateNamespace(n *Namespace) field.ErrorList {
	errs := validation.ValidateObjectMeta(&n.ObjectMeta, false, validation.NameIsDNSLabel, metaPath)
	for i, f := range n.Spec.Finalizers {
		errs = append(errs, validation.ValidateQualifiedName(f, field.NewPath("spec", "finalizers").Index(i))...)
	}
	if n.Status.Phase != "" {
		errs = append(errs, validation.ValidateEnum(n.Status.Phase, namespacePhases, field.NewPath("status", "phase"))...)
	}
	return errs
}

// ValidateNamespaceUpdate checks only the metadata identity.
func ValidateNamespaceUpdate(n, old *Namespace) field.ErrorList {
	return validation.ValidateObjectMetaUpdate(&n.ObjectMeta, &old.ObjectMeta, metaPath)
}

// ValidateNode checks a node's pod CIDRs, taints and reported resources.
func ValidateNode(n *Node) field.ErrorList {
	errs := validation.ValidateObjectMeta(&n.ObjectMeta, false, validation.NameIsDNSSubdomain, metaPath)
	sp := field.NewPath("spec")
	if n.Spec.PodCIDR != "" {
		errs = append(errs, validation.InvalidEach(n.Spec.PodCIDR, validation.IsValidCIDR(n.Spec.PodCIDR), sp.Child("podCIDR"))...)
	}
	for i, c := range n.Spec.PodCIDRs {
		errs = append(errs, validation.InvalidEach(c, validation.IsValidCIDR(c), sp.Child("podCIDRs").Index(i))...)
	}
	if len(n.Spec.PodCIDRs) > 0 && n.Spec.PodCIDR != n.Spec.PodCIDRs[0] {
		errs = append(errs, field.Invalid(sp.Child("podCIDRs").Index(0), n.Spec.PodCIDRs[0], "must match `spec.podCIDR`"))
	}
	seen := map[string]bool{}
	for i, t := range n.Spec.Taints {
		tp := sp.Child("taints").Index(i)
		errs = append(errs, validation.ValidateQualifiedName(t.Key, tp.Child("key"))...)
		errs = append(errs, validation.InvalidEach(t.Value, validation.IsValidLabelValue(t.Value), tp.Child("value"))...)
		errs = append(errs, validation.ValidateEnum(t.Effect, taintEffects, tp.Child("effect"))...)
		if seen[t.Key+":"+t.Effect] {
			errs = append(errs, field.Duplicate(tp, t.Key+":"+t.Effect))
		}
		seen[t.Key+":"+t.Effect] = true
	}
	st := field.NewPath("status")
	errs = append(errs, validateResourceList(n.Status.Capacity, st.Child("capacity"))...)
	errs = append(errs, validateResourceList(n.Status.Allocatable, st.Child("allocatable"))...)
	return errs
}

// ValidateNodeUpdate forbids changing a pod CIDR once assigned: pods on
// the node already have addresses from it.
func ValidateNodeUpdate(n, old *Node) field.ErrorList {
	errs := validation.ValidateObjectMetaUpdate(&n.ObjectMeta, &old.ObjectMeta, metaPath)
	if old.Spec.PodCIDR != "" && n.Spec.PodCIDR != old.Spec.PodCIDR {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "podCIDR"), "node updates may not change podCIDR except from \"\" to valid"))
	}
	if len(old.Spec.PodCIDRs) > 0 && !slices.Equal(n.Spec.PodCIDRs, old.Spec.PodCIDRs) {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "podCIDRs"), "node updates may not change podCIDR except from \"\" to valid"))
	}
	return errs
}

// ValidateService checks a service: its name is a DNS label; ports are
// required except for ExternalName and headless services.
func ValidateService(s *Service) field.ErrorList {
	errs := validation.ValidateObjectMeta(&s.ObjectMeta, true, validation.NameIsDNSLabel, metaPath)
	sp := field.NewPath("spec")
	spec := &s.Spec
	errs = append(errs, validation.ValidateEnum(spec.Type, serviceTypes, sp.Child("type"))...)
	errs = append(errs, validation.ValidateEnum(spec.SessionAffinity, sessionAffinities, sp.Child("sessionAffinity"))...)
	headless := spec.ClusterIP == ClusterIPNone
	switch {
	case spec.Type == ServiceTypeExternalName:
		if spec.ExternalName == "" {
			errs = append(errs, field.Required(sp.Child("externalName"), ""))
		} else {
			errs = append(errs, validation.ValidateDNS1123Subdomain(spec.ExternalName, sp.Child("externalName"))...)
		}
		if spec.ClusterIP != "" {
			errs = append(errs, field.Forbidden(sp.Child("clusterIP"), "may not be set for ExternalName services"))
		}
	case len(spec.Ports) == 0 && !headless:
		errs = append(errs, field.Required(sp.Child("ports"), ""))
	}
	if spec.ClusterIP != "" && !headless {
		errs = append(errs, validation.InvalidEach(spec.ClusterIP, validation.IsValidIP(spec.ClusterIP), sp.Child("clusterIP"))...)
	}
	if len(spec.ClusterIPs) > 0 && spec.ClusterIPs[0] != spec.ClusterIP {
		errs = append(errs, field.Invalid(sp.Child("clusterIPs").Index(0), spec.ClusterIPs[0], "must match `clusterIP` when both are specified"))
	}
	if headless && spec.Type != ServiceTypeClusterIP && spec.Type != "" {
		errs = append(errs, field.Invalid(sp.Child("clusterIP"), spec.ClusterIP, "may not be set to 'None' for "+spec.Type+" services"))
	}
	errs = append(errs, validateServicePorts(spec, sp.Child("ports"))...)
	errs = append(errs, validation.ValidateLabels(spec.Selector, sp.Child("selector"))...)
	for i, ip := range spec.ExternalIPs {
		errs = append(errs, validation.InvalidEach(ip, validation.IsValidIP(ip), sp.Child("externalIPs").Index(i))...)
	}
	if spec.ExternalTrafficPolicy != "" {
		if spec.Type != ServiceTypeNodePort && spec.Type != ServiceTypeLoadBalancer {
			errs = append(errs, field.Invalid(sp.Child("externalTrafficPolicy"), spec.ExternalTrafficPolicy, "may only be set when `type` is 'NodePort' or 'LoadBalancer'"))
		} else {
			errs = append(errs, validation.ValidateEnum(spec.ExternalTrafficPolicy, trafficPolicies, sp.Child("externalTrafficPolicy"))...)
		}
	}
	if p := spec.InternalTrafficPolicy; p != nil {
		errs = append(errs, validation.ValidateEnum(*p, trafficPolicies, sp.Child("internalTrafficPolicy"))...)
	}
	for i, f := range spec.IPFamilies {
		errs = append(errs, validation.ValidateEnum(f, ipFamilies, sp.Child("ipFamilies").Index(i))...)
	}
	if p := spec.IPFamilyPolicy; p != nil {
		errs = append(errs, validation.ValidateEnum(*p, ipFamilyPolicies, sp.Child("ipFamilyPolicy"))...)
	}
	return errs
}

func validateServicePorts(spec *ServiceSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := map[string]bool{}
	ports := map[string]bool{}
	for i, port := range spec.Ports {
		pp := p.Index(i)
		switch {
		case port.Name == "" && len(spec.Ports) > 1:
			errs = append(errs, field.Required(pp.Child("name"), ""))
		case port.Name != "":
			errs = append(errs, validation.ValidateDNS1123Label(port.Name, pp.Child("name"))...)
			if names[port.Name] {
				errs = append(errs, field.Duplicate(pp.Child("name"), port.Name))
			}
			names[port.Name] = true
		}
		errs = append(errs, validation.InvalidEach(port.Port, validation.IsValidPortNum(int(port.Port)), pp.Child("port"))...)
		errs = append(errs, validation.ValidateEnum(port.Protocol, protocols, pp.Child("protocol"))...)
		errs = append(errs, validatePortNumOrName(port.TargetPort, pp.Child("targetPort"))...)
		if port.NodePort != 0 {
			if spec.Type != ServiceTypeNodePort && spec.Type != ServiceTypeLoadBalancer {
				errs = append(errs, field.Forbidden(pp.Child("nodePort"), "may not be used when `type` is '"+spec.Type+"'"))
			}
			errs = append(errs, validation.InvalidEach(port.NodePort, validation.IsValidPortNum(int(port.NodePort)), pp.Child("nodePort"))...)
		}
		key := intstr.FromInt(int(port.Port)).String() + "/" + port.Protocol
		if ports[key] {
			errs = append(errs, field.Duplicate(pp, key))
		}
		ports[key] = true
	}
	return errs
}

// ValidateServiceUpdate keeps clusterIP and clusterIPs once allocated.
// (Kubernetes' API server copies them from the stored service when an
// update leaves them empty; that is the API server's job, not this one.)
func ValidateServiceUpdate(s, old *Service) field.ErrorList {
	errs := validation.ValidateObjectMetaUpdate(&s.ObjectMeta, &old.ObjectMeta, metaPath)
	toExternalName := s.Spec.Type == ServiceTypeExternalName
	if old.Spec.ClusterIP != "" && !toExternalName {
		errs = append(errs, validation.ValidateImmutableField(s.Spec.ClusterIP, old.Spec.ClusterIP, field.NewPath("spec", "clusterIP"))...)
	}
	if len(old.Spec.ClusterIPs) > 0 && !toExternalName && len(s.Spec.ClusterIPs) > 0 && s.Spec.ClusterIPs[0] != old.Spec.ClusterIPs[0] {
		errs = append(errs, field.Invalid(field.NewPath("spec", "clusterIPs").Index(0), s.Spec.ClusterIPs[0], validation.FieldImmutableErrorMsg))
	}
	return errs
}

// ValidateEndpoints checks addresses and ports.
func ValidateEndpoints(e *Endpoints) field.ErrorList {
	errs := validation.ValidateObjectMeta(&e.ObjectMeta, true, validation.NameIsDNSSubdomain, metaPath)
	for i, s := range e.Subsets {
		sp := field.NewPath("subsets").Index(i)
		for j, a := range s.Addresses {
			errs = append(errs, validateEndpointAddress(a, sp.Child("addresses").Index(j))...)
		}
		for j, a := range s.NotReadyAddresses {
			errs = append(errs, validateEndpointAddress(a, sp.Child("notReadyAddresses").Index(j))...)
		}
		names := map[string]bool{}
		for j, port := range s.Ports {
			pp := sp.Child("ports").Index(j)
			if port.Name != "" {
				errs = append(errs, validation.ValidateDNS1123Label(port.Name, pp.Child("name"))...)
				if names[port.Name] {
					errs = append(errs, field.Duplicate(pp.Child("name"), port.Name))
				}
				names[port.Name] = true
			} else if len(s.Ports) > 1 {
				errs = append(errs, field.Required(pp.Child("name"), ""))
			}
			errs = append(errs, validation.InvalidEach(port.Port, validation.IsValidPortNum(int(port.Port)), pp.Child("port"))...)
			errs = append(errs, validation.ValidateEnum(port.Protocol, protocols, pp.Child("protocol"))...)
		}
	}
	return errs
}

func validateEndpointAddress(a EndpointAddress, p *field.Path) field.ErrorList {
	errs := validation.InvalidEach(a.IP, validation.IsValidIP(a.IP), p.Child("ip"))
	if a.Hostname != "" {
		errs = append(errs, validation.ValidateDNS1123Label(a.Hostname, p.Child("hostname"))...)
	}
	if a.NodeName != nil {
		errs = append(errs, validation.ValidateDNS1123Subdomain(*a.NodeName, p.Child("nodeName"))...)
	}
	return errs
}

// ValidateEndpointsUpdate checks only the metadata identity.
func ValidateEndpointsUpdate(e, old *Endpoints) field.ErrorList {
	return validation.ValidateObjectMetaUpdate(&e.ObjectMeta, &old.ObjectMeta, metaPath)
}

// ValidateConfigMap checks keys (valid file names, no key in both data
// and binaryData) and the 1 MiB size limit.
func ValidateConfigMap(c *ConfigMap) field.ErrorList {
	errs := validation.ValidateObjectMeta(&c.ObjectMeta, true, validation.NameIsDNSSubdomain, metaPath)
	size := 0
	for _, k := range slices.Sorted(maps.Keys(c.Data)) {
		errs = append(errs, validation.InvalidEach(k, validation.IsConfigMapKey(k), field.NewPath("data").Key(k))...)
		size += len(c.Data[k])
	}
	for _, k := range slices.Sorted(maps.Keys(c.BinaryData)) {
		errs = append(errs, validation.InvalidEach(k, validation.IsConfigMapKey(k), field.NewPath("binaryData").Key(k))...)
		if _, ok := c.Data[k]; ok {
			errs = append(errs, field.Invalid(field.NewPath("binaryData").Key(k), k, "duplicate of key present in data"))
		}
		size += len(c.BinaryData[k])
	}
	if size > maxConfigDataBytes {
		errs = append(errs, field.TooLong(field.NewPath(""), "", maxConfigDataBytes))
	}
	return errs
}

// ValidateConfigMapUpdate freezes the data of an immutable ConfigMap.
func ValidateConfigMapUpdate(c, old *ConfigMap) field.ErrorList {
	errs := validation.ValidateObjectMetaUpdate(&c.ObjectMeta, &old.ObjectMeta, metaPath)
	if isTrue(old.Immutable) {
		errs = append(errs, validateStillImmutable(c.Immutable)...)
		if !maps.Equal(c.Data, old.Data) {
			errs = append(errs, field.Forbidden(field.NewPath("data"), "field is immutable when `immutable` is set"))
		}
		if !maps.EqualFunc(c.BinaryData, old.BinaryData, slices.Equal) {
			errs = append(errs, field.Forbidden(field.NewPath("binaryData"), "field is immutable when `immutable` is set"))
		}
	}
	return errs
}

func validateStillImmutable(b *bool) field.ErrorList {
	if !isTrue(b) {
		return field.ErrorList{field.Forbidden(field.NewPath("immutable"), "field is immutable when `immutable` is set")}
	}
	return nil
}

func isTrue(b *bool) bool { return b != nil && *b }

// ValidateSecret checks keys, the 1 MiB size limit and the keys each
// well-known type requires. It runs after defaulting has merged
// stringData into data.
func ValidateSecret(s *Secret) field.ErrorList {
	errs := validation.ValidateObjectMeta(&s.ObjectMeta, true, validation.NameIsDNSSubdomain, metaPath)
	dp := field.NewPath("data")
	size := 0
	for _, k := range slices.Sorted(maps.Keys(s.Data)) {
		errs = append(errs, validation.InvalidEach(k, validation.IsConfigMapKey(k), dp.Key(k))...)
		size += len(s.Data[k])
	}
	for _, k := range slices.Sorted(maps.Keys(s.StringData)) {
		errs = append(errs, validation.InvalidEach(k, validation.IsConfigMapKey(k), field.NewPath("stringData").Key(k))...)
		size += len(s.StringData[k])
	}
	if size > maxConfigDataBytes {
		errs = append(errs, field.TooLong(dp, "", maxConfigDataBytes))
	}
	require := func(key string) {
		if _, ok := s.Data[key]; !ok {
			errs = append(errs, field.Required(dp.Key(key), ""))
		}
	}
	switch s.Type {
	case SecretTypeTLS:
		require(TLSCertKey)
		require(TLSPrivateKeyKey)
	case SecretTypeDockerConfigJSON:
		require(DockerConfigJSONKey)
	case SecretTypeDockercfg:
		require(DockerConfigKey)
	case SecretTypeServiceAccountToken:
		if s.Annotations["kubernetes.io/service-account.name"] == "" {
			errs = append(errs, field.Required(metaPath.Child("annotations").Key("kubernetes.io/service-account.name"), ""))
		}
	case "":
		errs = append(errs, field.Required(field.NewPath("type"), ""))
	}
	return errs
}

// ValidateSecretUpdate keeps the type, and freezes the data of an
// immutable Secret.
func ValidateSecretUpdate(s, old *Secret) field.ErrorList {
	errs := validation.ValidateObjectMetaUpdate(&s.ObjectMeta, &old.ObjectMeta, metaPath)
	errs = append(errs, validation.ValidateImmutableField(s.Type, old.Type, field.NewPath("type"))...)
	if isTrue(old.Immutable) {
		errs = append(errs, validateStillImmutable(s.Immutable)...)
		if !maps.EqualFunc(s.Data, old.Data, slices.Equal) {
			errs = append(errs, field.Forbidden(field.NewPath("data"), "field is immutable when `immutable` is set"))
		}
	}
	return errs
}

// ValidateEvent checks the few things Kubernetes checks on core/v1
// Events: the type, a non-negative count, and that the involved object
// lives in the event's namespace.
func ValidateEvent(e *Event) field.ErrorList {
	errs := validation.ValidateObjectMeta(&e.ObjectMeta, true, validation.NameIsDNSSubdomain, metaPath)
	if e.Type != "" {
		errs = append(errs, validation.ValidateEnum(e.Type, eventTypes, field.NewPath("type"))...)
	}
	errs = append(errs, validation.ValidateNonnegative(e.Count, field.NewPath("count"))...)
	if ns := e.InvolvedObject.Namespace; ns != "" && ns != e.Namespace {
		errs = append(errs, field.Invalid(field.NewPath("involvedObject", "namespace"), ns, "does not match event.namespace"))
	}
	return errs
}

// ValidateEventUpdate checks only the metadata identity.
func ValidateEventUpdate(e, old *Event) field.ErrorList {
	return validation.ValidateObjectMetaUpdate(&e.ObjectMeta, &old.ObjectMeta, metaPath)
}

// ValidateServiceAccount checks the metadata and referenced secret names.
func ValidateServiceAccount(sa *ServiceAccount) field.ErrorList {
	errs := validation.ValidateObjectMeta(&sa.ObjectMeta, true, validation.NameIsDNSSubdomain, metaPath)
	for i, r := range sa.ImagePullSecrets {
		if r.Name == "" {
			errs = append(errs, field.Required(field.NewPath("imagePullSecrets").Index(i).Child("name"), ""))
		}
	}
	return errs
}

// ValidateServiceAccountUpdate checks only the metadata identity.
func ValidateServiceAccountUpdate(sa, old *ServiceAccount) field.ErrorList {
	return validation.ValidateObjectMetaUpdate(&sa.ObjectMeta, &old.ObjectMeta, metaPath)
}

// ValidatePersistentVolume checks capacity, access modes and that
// exactly one volume source is given.
func ValidatePersistentVolume(pv *PersistentVolume) field.ErrorList {
	errs := validation.ValidateObjectMeta(&pv.ObjectMeta, false, validation.NameIsDNSSubdomain, metaPath)
	sp := field.NewPath("spec")
	s := &pv.Spec
	if _, ok := s.Capacity[ResourceStorage]; !ok {
		errs = append(errs, field.Required(sp.Child("capacity").Key(ResourceStorage), ""))
	}
	errs = append(errs, validateResourceList(s.Capacity, sp.Child("capacity"))...)
	errs = append(errs, validateAccessModes(s.AccessModes, sp.Child("accessModes"))...)
	errs = append(errs, validation.ValidateEnum(s.PersistentVolumeReclaimPolicy, reclaimPolicies, sp.Child("persistentVolumeReclaimPolicy"))...)
	if s.VolumeMode != nil {
		errs = append(errs, validation.ValidateEnum(*s.VolumeMode, volumeModes, sp.Child("volumeMode"))...)
	}
	switch {
	case s.HostPath == nil && s.Local == nil:
		errs = append(errs, field.Required(sp, "must specify a volume type"))
	case s.HostPath != nil && s.Local != nil:
		errs = append(errs, field.Forbidden(sp.Child("local"), "may not specify more than 1 volume type"))
	case s.HostPath != nil:
		errs = append(errs, validateHostPath(s.HostPath, sp.Child("hostPath"))...)
	case s.Local != nil:
		if s.Local.Path == "" {
			errs = append(errs, field.Required(sp.Child("local", "path"), ""))
		}
		if s.NodeAffinity == nil || s.NodeAffinity.Required == nil {
			errs = append(errs, field.Required(sp.Child("nodeAffinity"), "Local volume requires node affinity"))
		}
	}
	if s.NodeAffinity != nil && s.NodeAffinity.Required != nil {
		errs = append(errs, ValidateNodeSelector(s.NodeAffinity.Required, sp.Child("nodeAffinity", "required"))...)
	}
	if s.StorageClassName != "" {
		errs = append(errs, validation.ValidateDNS1123Subdomain(s.StorageClassName, sp.Child("storageClassName"))...)
	}
	return errs
}

// ValidatePersistentVolumeUpdate keeps the volume source: the data lives
// there.
func ValidatePersistentVolumeUpdate(pv, old *PersistentVolume) field.ErrorList {
	errs := validation.ValidateObjectMetaUpdate(&pv.ObjectMeta, &old.ObjectMeta, metaPath)
	sp := field.NewPath("spec")
	errs = append(errs, validation.ValidateImmutableField(pv.Spec.HostPath, old.Spec.HostPath, sp.Child("hostPath"))...)
	errs = append(errs, validation.ValidateImmutableField(pv.Spec.Local, old.Spec.Local, sp.Child("local"))...)
	if old.Spec.NodeAffinity != nil {
		errs = append(errs, validation.ValidateImmutableField(pv.Spec.NodeAffinity, old.Spec.NodeAffinity, sp.Child("nodeAffinity"))...)
	}
	return errs
}

// ValidatePersistentVolumeClaim checks a claim: access modes and a storage
// request are required.
func ValidatePersistentVolumeClaim(c *PersistentVolumeClaim) field.ErrorList {
	errs := validation.ValidateObjectMeta(&c.ObjectMeta, true, validation.NameIsDNSSubdomain, metaPath)
	return append(errs, ValidatePersistentVolumeClaimSpec(&c.Spec, field.NewPath("spec"))...)
}

// ValidatePersistentVolumeClaimSpec checks a claim's spec (also used for
// StatefulSet volumeClaimTemplates).
func ValidatePersistentVolumeClaimSpec(s *PersistentVolumeClaimSpec, p *field.Path) field.ErrorList {
	errs := validateAccessModes(s.AccessModes, p.Child("accessModes"))
	errs = append(errs, validation.ValidateLabelSelector(s.Selector, p.Child("selector"))...)
	rp := p.Child("resources")
	if q, ok := s.Resources.Requests[ResourceStorage]; !ok {
		errs = append(errs, field.Required(rp.Child("requests").Key(ResourceStorage), ""))
	} else if q.Sign() <= 0 {
		errs = append(errs, field.Invalid(rp.Child("requests").Key(ResourceStorage), q.String(), "must be greater than zero"))
	}
	errs = append(errs, validateResourceList(s.Resources.Requests, rp.Child("requests"))...)
	errs = append(errs, validateResourceList(s.Resources.Limits, rp.Child("limits"))...)
	if s.StorageClassName != nil && *s.StorageClassName != "" {
		errs = append(errs, validation.ValidateDNS1123Subdomain(*s.StorageClassName, p.Child("storageClassName"))...)
	}
	if s.VolumeMode != nil {
		errs = append(errs, validation.ValidateEnum(*s.VolumeMode, volumeModes, p.Child("volumeMode"))...)
	}
	return errs
}

// ValidatePersistentVolumeClaimUpdate forbids spec changes once bound,
// except growing the storage request, as in Kubernetes.
func ValidatePersistentVolumeClaimUpdate(c, old *PersistentVolumeClaim) field.ErrorList {
	errs := validation.ValidateObjectMetaUpdate(&c.ObjectMeta, &old.ObjectMeta, metaPath)
	if old.Spec.VolumeName == "" {
		return errs // still pending: the binder may fill volumeName
	}
	spec := c.Spec
	spec.Resources = old.Spec.Resources
	if !reflect.DeepEqual(spec, old.Spec) {
		errs = append(errs, field.Forbidden(field.NewPath("spec"), "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"))
	}
	if newQ, oldQ := c.Spec.Resources.Requests[ResourceStorage], old.Spec.Resources.Requests[ResourceStorage]; newQ.Cmp(oldQ) < 0 {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "resources", "requests", "storage"), "field can not be less than previous value"))
	}
	return errs
}

func validateAccessModes(modes []string, p *field.Path) field.ErrorList {
	if len(modes) == 0 {
		return field.ErrorList{field.Required(p, "at least 1 access mode is required")}
	}
	var errs field.ErrorList
	for i, m := range modes {
		if !slices.Contains(accessModes, m) {
			errs = append(errs, field.NotSupported(p.Index(i), m, accessModes))
		}
	}
	return errs
}
