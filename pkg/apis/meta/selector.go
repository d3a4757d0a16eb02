package meta

// LabelSelector selects objects by their labels. The requirements of
// MatchLabels and MatchExpressions are ANDed. An empty selector matches
// every object; a nil *LabelSelector matches none (see labels package).
type LabelSelector struct {
	MatchLabels      map[string]string          `json:"matchLabels,omitempty"`
	MatchExpressions []LabelSelectorRequirement `json:"matchExpressions,omitempty"`
}

// LabelSelectorRequirement is one set-based requirement such as
// "tier In (frontend, cache)". Values must be non-empty for In and NotIn
// and empty for Exists and DoesNotExist.
type LabelSelectorRequirement struct {
	Key      string   `json:"key"`
	Operator string   `json:"operator"`
	Values   []string `json:"values,omitempty"`
}

// Label selector operators.
const (
	LabelSelectorOpIn           = "In"
	LabelSelectorOpNotIn        = "NotIn"
	LabelSelectorOpExists       = "Exists"
	LabelSelectorOpDoesNotExist = "DoesNotExist"
)
