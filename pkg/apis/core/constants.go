package core

// Pod phases.
const (
	PodPending   = "Pending"
	PodRunning   = "Running"
	PodSucceeded = "Succeeded"
	PodFailed    = "Failed"
	PodUnknown   = "Unknown"
)

// Pod condition types.
const (
	PodScheduled              = "PodScheduled"
	PodInitialized            = "Initialized"
	PodContainersReady        = "ContainersReady"
	PodReady                  = "Ready"
	PodReadyToStartContainers = "PodReadyToStartContainers"
)

// Condition status values (as meta.ConditionTrue etc.).
const (
	ConditionTrue    = "True"
	ConditionFalse   = "False"
	ConditionUnknown = "Unknown"
)

// Restart policies.
const (
	RestartPolicyAlways    = "Always"
	RestartPolicyOnFailure = "OnFailure"
	RestartPolicyNever     = "Never"
)

// Image pull policies.
const (
	PullAlways       = "Always"
	PullIfNotPresent = "IfNotPresent"
	PullNever        = "Never"
)

// DNS policies.
const (
	DNSClusterFirst            = "ClusterFirst"
	DNSClusterFirstWithHostNet = "ClusterFirstWithHostNet"
	DNSDefault                 = "Default"
	DNSNone                    = "None"
)

// Termination message policies.
const (
	TerminationMessageReadFile              = "File"
	TerminationMessageFallbackToLogsOnError = "FallbackToLogsOnError"
)

// Protocols.
const (
	ProtocolTCP  = "TCP"
	ProtocolUDP  = "UDP"
	ProtocolSCTP = "SCTP"
)

// URI schemes of HTTP probes.
const (
	URISchemeHTTP  = "HTTP"
	URISchemeHTTPS = "HTTPS"
)

// QoS classes, derived from requests and limits.
const (
	QOSGuaranteed = "Guaranteed"
	QOSBurstable  = "Burstable"
	QOSBestEffort = "BestEffort"
)

// Taint effects.
const (
	TaintEffectNoSchedule       = "NoSchedule"
	TaintEffectPreferNoSchedule = "PreferNoSchedule"
	TaintEffectNoExecute        = "NoExecute"
)

// Toleration operators.
const (
	TolerationOpExists = "Exists"
	TolerationOpEqual  = "Equal"
)

// Node selector operators (node affinity).
const (
	NodeSelectorOpIn           = "In"
	NodeSelectorOpNotIn        = "NotIn"
	NodeSelectorOpExists       = "Exists"
	NodeSelectorOpDoesNotExist = "DoesNotExist"
	NodeSelectorOpGt           = "Gt"
	NodeSelectorOpLt           = "Lt"
)

// Node condition types.
const (
	NodeReady              = "Ready"
	NodeMemoryPressure     = "MemoryPressure"
	NodeDiskPressure       = "DiskPressure"
	NodePIDPressure        = "PIDPressure"
	NodeNetworkUnavailable = "NetworkUnavailable"
)

// Node address types.
const (
	NodeHostName    = "Hostname"
	NodeInternalIP  = "InternalIP"
	NodeExternalIP  = "ExternalIP"
	NodeInternalDNS = "InternalDNS"
	NodeExternalDNS = "ExternalDNS"
)

// Taints the node controllers place, as in Kubernetes.
const (
	TaintNodeNotReady      = "node.kubernetes.io/not-ready"
	TaintNodeUnreachable   = "node.kubernetes.io/unreachable"
	TaintNodeUnschedulable = "node.kubernetes.io/unschedulable"
)

// Namespace phases.
const (
	NamespaceActive      = "Active"
	NamespaceTerminating = "Terminating"
)

// FinalizerKubernetes is the namespace finalizer the namespace controller
// removes once the namespace is empty.
const FinalizerKubernetes = "kubernetes"

// Service types.
const (
	ServiceTypeClusterIP    = "ClusterIP"
	ServiceTypeNodePort     = "NodePort"
	ServiceTypeLoadBalancer = "LoadBalancer"
	ServiceTypeExternalName = "ExternalName"
)

// ClusterIPNone marks a headless service.
const ClusterIPNone = "None"

// Service session affinities.
const (
	ServiceAffinityNone     = "None"
	ServiceAffinityClientIP = "ClientIP"
)

// Service traffic policies.
const (
	TrafficPolicyCluster = "Cluster"
	TrafficPolicyLocal   = "Local"
)

// IP families and family policies.
const (
	IPv4Protocol              = "IPv4"
	IPv6Protocol              = "IPv6"
	IPFamilyPolicySingleStack = "SingleStack"
	IPFamilyPolicyPreferDual  = "PreferDualStack"
	IPFamilyPolicyRequireDual = "RequireDualStack"
)

// Resource names.
const (
	ResourceCPU              = "cpu"
	ResourceMemory           = "memory"
	ResourcePods             = "pods"
	ResourceEphemeralStorage = "ephemeral-storage"
	ResourceStorage          = "storage"
)

// Secret types and their well-known keys.
const (
	SecretTypeOpaque              = "Opaque"
	SecretTypeServiceAccountToken = "kubernetes.io/service-account-token"
	SecretTypeDockercfg           = "kubernetes.io/dockercfg"
	SecretTypeDockerConfigJSON    = "kubernetes.io/dockerconfigjson"
	SecretTypeBasicAuth           = "kubernetes.io/basic-auth"
	SecretTypeSSHAuth             = "kubernetes.io/ssh-auth"
	SecretTypeTLS                 = "kubernetes.io/tls"
	SecretTypeBootstrapToken      = "bootstrap.kubernetes.io/token"

	DockerConfigKey     = ".dockercfg"
	DockerConfigJSONKey = ".dockerconfigjson"
	TLSCertKey          = "tls.crt"
	TLSPrivateKeyKey    = "tls.key"
)

// Event types.
const (
	EventTypeNormal  = "Normal"
	EventTypeWarning = "Warning"
)

// Persistent volume access modes, phases and reclaim policies.
const (
	ReadWriteOnce    = "ReadWriteOnce"
	ReadOnlyMany     = "ReadOnlyMany"
	ReadWriteMany    = "ReadWriteMany"
	ReadWriteOncePod = "ReadWriteOncePod"

	VolumePending   = "Pending"
	VolumeAvailable = "Available"
	VolumeBound     = "Bound"
	VolumeReleased  = "Released"
	VolumeFailed    = "Failed"

	ClaimPending = "Pending"
	ClaimBound   = "Bound"
	ClaimLost    = "Lost"

	PersistentVolumeReclaimRetain  = "Retain"
	PersistentVolumeReclaimDelete  = "Delete"
	PersistentVolumeReclaimRecycle = "Recycle"

	PersistentVolumeFilesystem = "Filesystem"
	PersistentVolumeBlock      = "Block"
)

// Default values applied by defaulting.
const (
	DefaultSchedulerName                 = "default-scheduler"
	DefaultServiceAccountName            = "default"
	DefaultTerminationGracePeriodSeconds = 30
	DefaultTerminationMessagePath        = "/dev/termination-log"
	// DefaultVolumeMode is the file mode of projected files (0644).
	DefaultVolumeMode int32 = 0o644
)

// Well-known labels.
const (
	LabelHostname             = "kubernetes.io/hostname"
	LabelOS                   = "kubernetes.io/os"
	LabelArch                 = "kubernetes.io/arch"
	LabelMetadataName         = "kubernetes.io/metadata.name"
	LabelNodeRoleControlPlane = "node-role.kubernetes.io/control-plane"
)
