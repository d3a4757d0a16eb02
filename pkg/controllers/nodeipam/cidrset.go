package nodeipam

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// errExhausted says every subnet of the cluster CIDR is taken.
var errExhausted = errors.New("no pod CIDR left")

// cidrSet hands out the equal-sized subnets (one per node) of a cluster
// CIDR: Kubernetes' cidrset, for IPv4. It is pure bookkeeping, not safe
// for concurrent use; the controller guards it.
type cidrSet struct {
	cluster  netip.Prefix // masked
	maskSize int          // prefix length of each subnet
	// used[i] says whether subnet i (the i-th /maskSize of cluster) is
	// taken. Invariant: free == the number of false entries.
	used []bool
	free int
	// next is where the search for a free subnet starts: just after the
	// last one handed out, so a freed subnet is reused as late as
	// possible (routes to a deleted node may linger for a while).
	next int
}

// maxSubnetBits bounds the number of subnets (2^16), as Kubernetes does:
// the set is a plain array.
const maxSubnetBits = 16

func newCIDRSet(cluster netip.Prefix, maskSize int) (*cidrSet, error) {
	if !cluster.Addr().Is4() {
		return nil, fmt.Errorf("cluster CIDR %s: only IPv4 is supported", cluster)
	}
	if maskSize < cluster.Bits() || maskSize > 32 {
		return nil, fmt.Errorf("node mask size /%d must be between the cluster CIDR's /%d and /32", maskSize, cluster.Bits())
	}
	if maskSize-cluster.Bits() > maxSubnetBits {
		return nil, fmt.Errorf("node mask size /%d cuts cluster CIDR %s into more than 2^%d subnets; use a larger mask size or a smaller cluster CIDR",
			maskSize, cluster, maxSubnetBits)
	}
	n := 1 << (maskSize - cluster.Bits())
	return &cidrSet{cluster: cluster.Masked(), maskSize: maskSize, used: make([]bool, n), free: n}, nil
}

// subnet returns the i-th subnet.
func (s *cidrSet) subnet(i int) netip.Prefix {
	base := s.cluster.Addr().As4()
	v := binary.BigEndian.Uint32(base[:]) + uint32(i)<<(32-s.maskSize)
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], v)
	return netip.PrefixFrom(netip.AddrFrom4(a), s.maskSize)
}

// index returns which subnet p is, or false when p is not one of them
// (another size, or outside the cluster CIDR).
func (s *cidrSet) index(p netip.Prefix) (int, bool) {
	if p.Bits() != s.maskSize || !p.Addr().Is4() || !s.cluster.Contains(p.Addr()) {
		return 0, false
	}
	a := p.Masked().Addr().As4()
	b := s.cluster.Addr().As4()
	return int((binary.BigEndian.Uint32(a[:]) - binary.BigEndian.Uint32(b[:])) >> (32 - s.maskSize)), true
}

// allocate takes the next free subnet, or fails with errExhausted.
func (s *cidrSet) allocate() (netip.Prefix, error) {
	if s.free == 0 {
		return netip.Prefix{}, fmt.Errorf("%w: all %d /%d subnets of %s are assigned", errExhausted, len(s.used), s.maskSize, s.cluster)
	}
	for k := range s.used {
		i := (s.next + k) % len(s.used)
		if !s.used[i] {
			s.used[i], s.free, s.next = true, s.free-1, (i+1)%len(s.used)
			return s.subnet(i), nil
		}
	}
	panic("nodeipam: cidrSet.free is out of step with used") // the invariant is broken
}

// occupy marks p as taken (it was assigned before, by us or by hand). It
// reports false when p is not one of the set's subnets; occupying a taken
// subnet again is fine.
func (s *cidrSet) occupy(p netip.Prefix) bool {
	i, ok := s.index(p)
	if !ok {
		return false
	}
	if !s.used[i] {
		s.used[i], s.free = true, s.free-1
	}
	return true
}

// release frees p; releasing a free subnet, or one not in the set, is a
// no-op.
func (s *cidrSet) release(p netip.Prefix) {
	if i, ok := s.index(p); ok && s.used[i] {
		s.used[i], s.free = false, s.free+1
	}
}
