package meta

// Status is the body of every error response (and of some successful
// deletes). Its Reason is machine-readable; Message is for people.
type Status struct {
	TypeMeta `json:",inline"`
	ListMeta `json:"metadata"`
	Status   string         `json:"status,omitempty"`
	Message  string         `json:"message,omitempty"`
	Reason   string         `json:"reason,omitempty"`
	Details  *StatusDetails `json:"details,omitempty"`
	Code     int32          `json:"code,omitempty"`
}

// StatusDetails says which object a Status is about and, for Invalid,
// every field that was wrong.
type StatusDetails struct {
	Name              string        `json:"name,omitempty"`
	Group             string        `json:"group,omitempty"`
	Kind              string        `json:"kind,omitempty"`
	UID               string        `json:"uid,omitempty"`
	Causes            []StatusCause `json:"causes,omitempty"`
	RetryAfterSeconds int32         `json:"retryAfterSeconds,omitempty"`
}

// StatusCause is one reason for a failure, typically one bad field.
type StatusCause struct {
	Type    string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	Field   string `json:"field,omitempty"`
}

// Status values and reasons, as in Kubernetes.
const (
	StatusSuccess = "Success"
	StatusFailure = "Failure"

	ReasonNotFound              = "NotFound"
	ReasonAlreadyExists         = "AlreadyExists"
	ReasonConflict              = "Conflict"
	ReasonInvalid               = "Invalid"
	ReasonBadRequest            = "BadRequest"
	ReasonGone                  = "Gone"
	ReasonExpired               = "Expired"
	ReasonForbidden             = "Forbidden"
	ReasonUnauthorized          = "Unauthorized"
	ReasonMethodNotAllowed      = "MethodNotAllowed"
	ReasonRequestEntityTooLarge = "RequestEntityTooLarge"
	ReasonUnsupportedMediaType  = "UnsupportedMediaType"
	ReasonNotAcceptable         = "NotAcceptable"
	ReasonTooManyRequests       = "TooManyRequests"
	ReasonInternalError         = "InternalError"
	ReasonServiceUnavailable    = "ServiceUnavailable"
	ReasonTimeout               = "Timeout"
)

// Cause types for StatusCause.Type.
const (
	CauseFieldValueInvalid      = "FieldValueInvalid"
	CauseFieldValueRequired     = "FieldValueRequired"
	CauseFieldValueNotSupported = "FieldValueNotSupported"
	CauseFieldValueDuplicate    = "FieldValueDuplicate"
	CauseFieldValueForbidden    = "FieldValueForbidden"
	CauseFieldValueTooLong      = "FieldValueTooLong"
	CauseUnknownField           = "FieldValueUnknown" // not in Kubernetes' list; used for strict decoding
)

// GetObjectMeta lets a Status travel where a meta.Object is expected (the
// ERROR event of a watch). A Status has no object metadata: the result is
// a fresh empty ObjectMeta each time.
func (s *Status) GetObjectMeta() *ObjectMeta { return &ObjectMeta{} }
