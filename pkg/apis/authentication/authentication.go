// Package authentication holds the authentication.k8s.io/v1 TokenRequest:
// the body and answer of POST serviceaccounts/{name}/token, which issues
// a ServiceAccount token bound to an audience, a lifetime and optionally a
// pod. The API server answers it without storing it.
//
// The package is pure: nothing here reads or writes the store.
package authentication

import "minik8s/pkg/apis/meta"

// TokenRequest asks for a ServiceAccount token.
type TokenRequest struct {
	meta.TypeMeta   `json:",inline"`
	meta.ObjectMeta `json:"metadata,omitempty"`
	Spec            TokenRequestSpec   `json:"spec"`
	Status          TokenRequestStatus `json:"status,omitempty"`
}

// TokenRequestSpec says who the token is for and for how long.
type TokenRequestSpec struct {
	// Audiences the token is valid for; empty: the API server's.
	Audiences []string `json:"audiences"`
	// ExpirationSeconds is the requested lifetime (default one hour,
	// at least ten minutes).
	ExpirationSeconds *int64 `json:"expirationSeconds,omitempty"`
	// BoundObjectRef ties the token to a pod: it stops working when the
	// pod is deleted.
	BoundObjectRef *BoundObjectReference `json:"boundObjectRef,omitempty"`
}

// BoundObjectReference names the object a token is bound to (a Pod).
type BoundObjectReference struct {
	Kind       string `json:"kind,omitempty"`
	APIVersion string `json:"apiVersion,omitempty"`
	Name       string `json:"name,omitempty"`
	UID        string `json:"uid,omitempty"`
}

// TokenRequestStatus is the issued token.
type TokenRequestStatus struct {
	Token               string    `json:"token"`
	ExpirationTimestamp meta.Time `json:"expirationTimestamp"`
}
