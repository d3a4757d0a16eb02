package core

import (
	"minik8s/pkg/apis/intstr"
	"minik8s/pkg/apis/meta"
)

// Namespace is a scope for names. Deleting one deletes everything in it;
// the "kubernetes" finalizer holds it in Terminating until then.
type Namespace struct {
	meta.TypeMeta   `json:",inline"`
	meta.ObjectMeta `json:"metadata,omitempty"`
	Spec            NamespaceSpec   `json:"spec,omitempty"`
	Status          NamespaceStatus `json:"status,omitempty"`
}

// NamespaceList is a list of Namespaces.
type NamespaceList struct {
	meta.TypeMeta `json:",inline"`
	meta.ListMeta `json:"metadata"`
	Items         []Namespace `json:"items"`
}

// NamespaceSpec holds the namespace's finalizers.
type NamespaceSpec struct {
	Finalizers []string `json:"finalizers,omitempty"`
}

// NamespaceStatus is Active or Terminating.
type NamespaceStatus struct {
	Phase      string           `json:"phase,omitempty"`
	Conditions []meta.Condition `json:"conditions,omitempty"`
}

// Node is a machine that runs pods, registered by its node agent.
type Node struct {
	meta.TypeMeta   `json:",inline"`
	meta.ObjectMeta `json:"metadata,omitempty"`
	Spec            NodeSpec   `json:"spec,omitempty"`
	Status          NodeStatus `json:"status,omitempty"`
}

// NodeList is a list of Nodes.
type NodeList struct {
	meta.TypeMeta `json:",inline"`
	meta.ListMeta `json:"metadata"`
	Items         []Node `json:"items"`
}

// NodeSpec is the desired state of a node. PodCIDR, once set by the node
// IPAM controller, never changes.
type NodeSpec struct {
	PodCIDR       string   `json:"podCIDR,omitempty"`
	PodCIDRs      []string `json:"podCIDRs,omitempty"`
	ProviderID    string   `json:"providerID,omitempty"`
	Unschedulable bool     `json:"unschedulable,omitempty"`
	Taints        []Taint  `json:"taints,omitempty"`
}

// Taint repels pods that do not tolerate it.
type Taint struct {
	Key       string     `json:"key"`
	Value     string     `json:"value,omitempty"`
	Effect    string     `json:"effect"`
	TimeAdded *meta.Time `json:"timeAdded,omitempty"`
}

// NodeStatus is what the node agent reports about its node.
type NodeStatus struct {
	Capacity        ResourceList        `json:"capacity,omitempty"`
	Allocatable     ResourceList        `json:"allocatable,omitempty"`
	Conditions      []NodeCondition     `json:"conditions,omitempty"`
	Addresses       []NodeAddress       `json:"addresses,omitempty"`
	DaemonEndpoints NodeDaemonEndpoints `json:"daemonEndpoints,omitempty"`
	NodeInfo        NodeSystemInfo      `json:"nodeInfo,omitempty"`
	Images          []ContainerImage    `json:"images,omitempty"`
}

// NodeCondition is one condition of a node (Ready, MemoryPressure, ...).
type NodeCondition struct {
	Type               string    `json:"type"`
	Status             string    `json:"status"`
	LastHeartbeatTime  meta.Time `json:"lastHeartbeatTime,omitempty"`
	LastTransitionTime meta.Time `json:"lastTransitionTime,omitempty"`
	Reason             string    `json:"reason,omitempty"`
	Message            string    `json:"message,omitempty"`
}

// NodeAddress is one address of a node.
type NodeAddress struct {
	Type    string `json:"type"`
	Address string `json:"address"`
}

// NodeDaemonEndpoints are the ports of the node's daemons.
type NodeDaemonEndpoints struct {
	KubeletEndpoint DaemonEndpoint `json:"kubeletEndpoint,omitempty"`
}

// DaemonEndpoint is one daemon port (the node agent's API for logs).
type DaemonEndpoint struct {
	Port int32 `json:"Port"`
}

// NodeSystemInfo describes the node's software.
type NodeSystemInfo struct {
	MachineID               string `json:"machineID"`
	SystemUUID              string `json:"systemUUID"`
	BootID                  string `json:"bootID"`
	KernelVersion           string `json:"kernelVersion"`
	OSImage                 string `json:"osImage"`
	ContainerRuntimeVersion string `json:"containerRuntimeVersion"`
	KubeletVersion          string `json:"kubeletVersion"`
	KubeProxyVersion        string `json:"kubeProxyVersion"`
	OperatingSystem         string `json:"operatingSystem"`
	Architecture            string `json:"architecture"`
}

// ContainerImage is an image present on a node.
type ContainerImage struct {
	Names     []string `json:"names"`
	SizeBytes int64    `json:"sizeBytes,omitempty"`
}

// Service is a stable virtual IP and DNS name in front of the pods its
// selector matches.
type Service struct {
	meta.TypeMeta   `json:",inline"`
	meta.ObjectMeta `json:"metadata,omitempty"`
	Spec            ServiceSpec   `json:"spec,omitempty"`
	Status          ServiceStatus `json:"status,omitempty"`
}

// ServiceList is a list of Services.
type ServiceList struct {
	meta.TypeMeta `json:",inline"`
	meta.ListMeta `json:"metadata"`
	Items         []Service `json:"items"`
}

// ServiceSpec is the desired state of a service. ClusterIP is allocated
// by the API server when empty, "None" for a headless service, and never
// changes once set.
type ServiceSpec struct {
	Type                          string                 `json:"type,omitempty"`
	Selector                      map[string]string      `json:"selector,omitempty"`
	Ports                         []ServicePort          `json:"ports,omitempty"`
	ClusterIP                     string                 `json:"clusterIP,omitempty"`
	ClusterIPs                    []string               `json:"clusterIPs,omitempty"`
	ExternalIPs                   []string               `json:"externalIPs,omitempty"`
	SessionAffinity               string                 `json:"sessionAffinity,omitempty"`
	SessionAffinityConfig         *SessionAffinityConfig `json:"sessionAffinityConfig,omitempty"`
	LoadBalancerIP                string                 `json:"loadBalancerIP,omitempty"`
	LoadBalancerSourceRanges      []string               `json:"loadBalancerSourceRanges,omitempty"`
	LoadBalancerClass             *string                `json:"loadBalancerClass,omitempty"`
	AllocateLoadBalancerNodePorts *bool                  `json:"allocateLoadBalancerNodePorts,omitempty"`
	ExternalName                  string                 `json:"externalName,omitempty"`
	ExternalTrafficPolicy         string                 `json:"externalTrafficPolicy,omitempty"`
	InternalTrafficPolicy         *string                `json:"internalTrafficPolicy,omitempty"`
	HealthCheckNodePort           int32                  `json:"healthCheckNodePort,omitempty"`
	PublishNotReadyAddresses      bool                   `json:"publishNotReadyAddresses,omitempty"`
	IPFamilies                    []string               `json:"ipFamilies,omitempty"`
	IPFamilyPolicy                *string                `json:"ipFamilyPolicy,omitempty"`
	TrafficDistribution           *string                `json:"trafficDistribution,omitempty"`
}

// ServicePort maps a service port to a target port on the pods (a number
// or the name of a container port).
type ServicePort struct {
	Name        string             `json:"name,omitempty"`
	Protocol    string             `json:"protocol,omitempty"`
	AppProtocol *string            `json:"appProtocol,omitempty"`
	Port        int32              `json:"port"`
	TargetPort  intstr.IntOrString `json:"targetPort,omitempty"`
	NodePort    int32              `json:"nodePort,omitempty"`
}

// SessionAffinityConfig configures ClientIP session affinity.
type SessionAffinityConfig struct {
	ClientIP *ClientIPConfig `json:"clientIP,omitempty"`
}

// ClientIPConfig is how long a client sticks to one endpoint.
type ClientIPConfig struct {
	TimeoutSeconds *int32 `json:"timeoutSeconds,omitempty"`
}

// ServiceStatus is the observed state of a service.
type ServiceStatus struct {
	LoadBalancer LoadBalancerStatus `json:"loadBalancer,omitempty"`
	Conditions   []meta.Condition   `json:"conditions,omitempty"`
}

// LoadBalancerStatus lists the load balancer's ingress points.
type LoadBalancerStatus struct {
	Ingress []LoadBalancerIngress `json:"ingress,omitempty"`
}

// LoadBalancerIngress is one ingress point of a load balancer.
type LoadBalancerIngress struct {
	IP       string       `json:"ip,omitempty"`
	Hostname string       `json:"hostname,omitempty"`
	IPMode   *string      `json:"ipMode,omitempty"`
	Ports    []PortStatus `json:"ports,omitempty"`
}

// PortStatus is the state of one load balancer port.
type PortStatus struct {
	Port     int32   `json:"port"`
	Protocol string  `json:"protocol"`
	Error    *string `json:"error,omitempty"`
}

// Endpoints lists the addresses behind a service; the endpoints
// controller keeps it in step with the service's ready pods.
type Endpoints struct {
	meta.TypeMeta   `json:",inline"`
	meta.ObjectMeta `json:"metadata,omitempty"`
	Subsets         []EndpointSubset `json:"subsets,omitempty"`
}

// EndpointsList is a list of Endpoints.
type EndpointsList struct {
	meta.TypeMeta `json:",inline"`
	meta.ListMeta `json:"metadata"`
	Items         []Endpoints `json:"items"`
}

// EndpointSubset is a set of addresses that all serve the same ports.
type EndpointSubset struct {
	Addresses         []EndpointAddress `json:"addresses,omitempty"`
	NotReadyAddresses []EndpointAddress `json:"notReadyAddresses,omitempty"`
	Ports             []EndpointPort    `json:"ports,omitempty"`
}

// EndpointAddress is one backend, usually a pod.
type EndpointAddress struct {
	IP        string           `json:"ip"`
	Hostname  string           `json:"hostname,omitempty"`
	NodeName  *string          `json:"nodeName,omitempty"`
	TargetRef *ObjectReference `json:"targetRef,omitempty"`
}

// EndpointPort is one port of the backends.
type EndpointPort struct {
	Name        string  `json:"name,omitempty"`
	Port        int32   `json:"port"`
	Protocol    string  `json:"protocol,omitempty"`
	AppProtocol *string `json:"appProtocol,omitempty"`
}

// ConfigMap holds configuration data for pods. Once Immutable is true its
// data can no longer change.
type ConfigMap struct {
	meta.TypeMeta   `json:",inline"`
	meta.ObjectMeta `json:"metadata,omitempty"`
	Immutable       *bool             `json:"immutable,omitempty"`
	Data            map[string]string `json:"data,omitempty"`
	BinaryData      map[string][]byte `json:"binaryData,omitempty"`
}

// ConfigMapList is a list of ConfigMaps.
type ConfigMapList struct {
	meta.TypeMeta `json:",inline"`
	meta.ListMeta `json:"metadata"`
	Items         []ConfigMap `json:"items"`
}

// Secret holds sensitive data. StringData is a write-only convenience:
// defaulting merges it into Data and clears it.
type Secret struct {
	meta.TypeMeta   `json:",inline"`
	meta.ObjectMeta `json:"metadata,omitempty"`
	Immutable       *bool             `json:"immutable,omitempty"`
	Data            map[string][]byte `json:"data,omitempty"`
	StringData      map[string]string `json:"stringData,omitempty"`
	Type            string            `json:"type,omitempty"`
}

// SecretList is a list of Secrets.
type SecretList struct {
	meta.TypeMeta `json:",inline"`
	meta.ListMeta `json:"metadata"`
	Items         []Secret `json:"items"`
}

// Event records something that happened to an object, for people to
// read with kubectl describe and kubectl get events.
type Event struct {
	meta.TypeMeta       `json:",inline"`
	meta.ObjectMeta     `json:"metadata,omitempty"`
	InvolvedObject      ObjectReference  `json:"involvedObject"`
	Reason              string           `json:"reason,omitempty"`
	Message             string           `json:"message,omitempty"`
	Source              EventSource      `json:"source,omitempty"`
	FirstTimestamp      meta.Time        `json:"firstTimestamp,omitempty"`
	LastTimestamp       meta.Time        `json:"lastTimestamp,omitempty"`
	Count               int32            `json:"count,omitempty"`
	Type                string           `json:"type,omitempty"`
	EventTime           meta.MicroTime   `json:"eventTime,omitempty"`
	Series              *EventSeries     `json:"series,omitempty"`
	Action              string           `json:"action,omitempty"`
	Related             *ObjectReference `json:"related,omitempty"`
	ReportingController string           `json:"reportingComponent"`
	ReportingInstance   string           `json:"reportingInstance"`
}

// EventList is a list of Events.
type EventList struct {
	meta.TypeMeta `json:",inline"`
	meta.ListMeta `json:"metadata"`
	Items         []Event `json:"items"`
}

// EventSource names the component (and host) that reported an event.
type EventSource struct {
	Component string `json:"component,omitempty"`
	Host      string `json:"host,omitempty"`
}

// EventSeries counts repeats of an event.
type EventSeries struct {
	Count            int32          `json:"count,omitempty"`
	LastObservedTime meta.MicroTime `json:"lastObservedTime,omitempty"`
}

// ServiceAccount is an identity for processes running in pods.
type ServiceAccount struct {
	meta.TypeMeta                `json:",inline"`
	meta.ObjectMeta              `json:"metadata,omitempty"`
	Secrets                      []ObjectReference      `json:"secrets,omitempty"`
	ImagePullSecrets             []LocalObjectReference `json:"imagePullSecrets,omitempty"`
	AutomountServiceAccountToken *bool                  `json:"automountServiceAccountToken,omitempty"`
}

// ServiceAccountList is a list of ServiceAccounts.
type ServiceAccountList struct {
	meta.TypeMeta `json:",inline"`
	meta.ListMeta `json:"metadata"`
	Items         []ServiceAccount `json:"items"`
}

// PersistentVolume is a piece of storage in the cluster (minik8s serves
// hostPath and local volumes).
type PersistentVolume struct {
	meta.TypeMeta   `json:",inline"`
	meta.ObjectMeta `json:"metadata,omitempty"`
	Spec            PersistentVolumeSpec   `json:"spec,omitempty"`
	Status          PersistentVolumeStatus `json:"status,omitempty"`
}

// PersistentVolumeList is a list of PersistentVolumes.
type PersistentVolumeList struct {
	meta.TypeMeta `json:",inline"`
	meta.ListMeta `json:"metadata"`
	Items         []PersistentVolume `json:"items"`
}

// PersistentVolumeSpec describes the volume; exactly one source is set.
type PersistentVolumeSpec struct {
	Capacity                      ResourceList          `json:"capacity,omitempty"`
	HostPath                      *HostPathVolumeSource `json:"hostPath,omitempty"`
	Local                         *LocalVolumeSource    `json:"local,omitempty"`
	AccessModes                   []string              `json:"accessModes,omitempty"`
	ClaimRef                      *ObjectReference      `json:"claimRef,omitempty"`
	PersistentVolumeReclaimPolicy string                `json:"persistentVolumeReclaimPolicy,omitempty"`
	StorageClassName              string                `json:"storageClassName,omitempty"`
	MountOptions                  []string              `json:"mountOptions,omitempty"`
	VolumeMode                    *string               `json:"volumeMode,omitempty"`
	NodeAffinity                  *VolumeNodeAffinity   `json:"nodeAffinity,omitempty"`
}

// LocalVolumeSource is a disk or directory on one node.
type LocalVolumeSource struct {
	Path   string  `json:"path"`
	FSType *string `json:"fsType,omitempty"`
}

// VolumeNodeAffinity restricts the nodes that can reach a volume.
type VolumeNodeAffinity struct {
	Required *NodeSelector `json:"required,omitempty"`
}

// PersistentVolumeStatus is the phase of a volume.
type PersistentVolumeStatus struct {
	Phase   string `json:"phase,omitempty"`
	Message string `json:"message,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// PersistentVolumeClaim is a request for storage.
type PersistentVolumeClaim struct {
	meta.TypeMeta   `json:",inline"`
	meta.ObjectMeta `json:"metadata,omitempty"`
	Spec            PersistentVolumeClaimSpec   `json:"spec,omitempty"`
	Status          PersistentVolumeClaimStatus `json:"status,omitempty"`
}

// PersistentVolumeClaimList is a list of PersistentVolumeClaims.
type PersistentVolumeClaimList struct {
	meta.TypeMeta `json:",inline"`
	meta.ListMeta `json:"metadata"`
	Items         []PersistentVolumeClaim `json:"items"`
}

// PersistentVolumeClaimSpec says what storage is wanted.
type PersistentVolumeClaimSpec struct {
	AccessModes      []string                   `json:"accessModes,omitempty"`
	Selector         *meta.LabelSelector        `json:"selector,omitempty"`
	Resources        VolumeResourceRequirements `json:"resources,omitempty"`
	VolumeName       string                     `json:"volumeName,omitempty"`
	StorageClassName *string                    `json:"storageClassName,omitempty"`
	VolumeMode       *string                    `json:"volumeMode,omitempty"`
}

// VolumeResourceRequirements is the storage a claim requests.
type VolumeResourceRequirements struct {
	Limits   ResourceList `json:"limits,omitempty"`
	Requests ResourceList `json:"requests,omitempty"`
}

// PersistentVolumeClaimStatus is the observed state of a claim.
type PersistentVolumeClaimStatus struct {
	Phase       string       `json:"phase,omitempty"`
	AccessModes []string     `json:"accessModes,omitempty"`
	Capacity    ResourceList `json:"capacity,omitempty"`
}
