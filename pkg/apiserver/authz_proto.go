package apiserver

import (
	"bytes"
	"errors"

	"google.golang.org/protobuf/encoding/protowire"

	"minik8s/pkg/apis/authorization"
)

// protoMagic starts Kubernetes' protobuf envelope (runtime.Unknown).
var protoMagic = []byte("k8s\x00")

// decodeSSARProto reads the SelfSubjectAccessReview kubectl auth can-i
// sends: client-go's typed client always uses protobuf for the
// authorization group. Only the spec's attributes are read; minik8s
// decodes no other protobuf.
func decodeSSARProto(body []byte) (*authorization.SelfSubjectAccessReview, error) {
	if !bytes.HasPrefix(body, protoMagic) {
		return nil, errors.New("not a Kubernetes protobuf envelope")
	}
	raw := protoField(body[len(protoMagic):], 2) // Unknown.raw
	spec := protoField(raw, 2)                   // SelfSubjectAccessReview.spec
	rev := &authorization.SelfSubjectAccessReview{}
	if ra := protoField(spec, 1); ra != nil {
		rev.Spec.ResourceAttributes = &authorization.ResourceAttributes{
			Namespace: string(protoField(ra, 1)), Verb: string(protoField(ra, 2)), Group: string(protoField(ra, 3)),
			Version: string(protoField(ra, 4)), Resource: string(protoField(ra, 5)), Subresource: string(protoField(ra, 6)),
			Name: string(protoField(ra, 7)),
		}
	}
	if nra := protoField(spec, 2); nra != nil {
		rev.Spec.NonResourceAttributes = &authorization.NonResourceAttributes{Path: string(protoField(nra, 1)), Verb: string(protoField(nra, 2))}
	}
	return rev, nil
}

// decodeSSRRProto reads the SelfSubjectRulesReview `kubectl auth can-i
// --list` sends: only spec.namespace.
func decodeSSRRProto(body []byte) (*authorization.SelfSubjectRulesReview, error) {
	if !bytes.HasPrefix(body, protoMagic) {
		return nil, errors.New("not a Kubernetes protobuf envelope")
	}
	spec := protoField(protoField(body[len(protoMagic):], 2), 2) // Unknown.raw, then .spec
	return &authorization.SelfSubjectRulesReview{Spec: authorization.SelfSubjectRulesReviewSpec{Namespace: string(protoField(spec, 1))}}, nil
}

// protoField returns the bytes of the last length-delimited field num of
// msg, or nil.
func protoField(msg []byte, num protowire.Number) []byte {
	var out []byte
	for len(msg) > 0 {
		n, typ, l := protowire.ConsumeTag(msg)
		if l < 0 {
			return out
		}
		msg = msg[l:]
		if typ == protowire.BytesType {
			v, l := protowire.ConsumeBytes(msg)
			if l < 0 {
				return out
			}
			if n == num {
				out = append([]byte{}, v...)
			}
			msg = msg[l:]
			continue
		}
		l = protowire.ConsumeFieldValue(n, typ, msg)
		if l < 0 {
			return out
		}
		msg = msg[l:]
	}
	return out
}
