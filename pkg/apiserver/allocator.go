package apiserver

// Service IP and node port allocation: the range arithmetic and the
// allocator over the store.
//
// Every address or port handed out is one store key,
//
//	/registry/allocations/serviceips/10.96.0.10
//	/registry/allocations/nodeports/30080
//
// whose value names the holder ("namespace/name/uid" of the Service).
// Taking one is the store's create-if-absent, so two requests, in one API
// server or in several, can never hold the same value: the loser of the
// race gets AlreadyExists and tries another candidate. This is the shape of
// Kubernetes' IPAddress objects (1.27+, KEP-1880): the allocation state is
// the set of keys, not a bitmap in one object, so there is no lock, no hot
// key, and nothing to rebuild when an API server restarts.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"

	"minik8s/pkg/apis/apierrors"
	"minik8s/pkg/store"
)

// Defaults of --service-cluster-ip-range and --service-node-port-range.
const (
	DefaultServiceCIDR   = "10.96.0.0/12"
	DefaultNodePortRange = "30000-32767"
)

// errAllocated says a specific value is held by someone else.
var errAllocated = errors.New("already allocated")

// errFull says every value of a range is held.
var errFull = errors.New("range is full")

// ipRange is an IPv4 service CIDR. Its network and broadcast addresses are
// never handed out (as in Kubernetes), and its first host address is the
// "kubernetes" Service's, so dynamic allocation starts at the second.
type ipRange struct {
	prefix netip.Prefix
	base   uint32 // the network address as an integer
	size   uint64 // number of addresses in prefix
}

// parseIPRange parses a CIDR such as 10.96.0.0/12. Only IPv4 is supported,
// and the range needs room for the kubernetes Service and one more.
func parseIPRange(cidr string) (ipRange, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return ipRange{}, fmt.Errorf("service CIDR %q: %w", cidr, err)
	}
	if !p.Addr().Is4() {
		return ipRange{}, fmt.Errorf("service CIDR %q: only IPv4 ranges are supported", cidr)
	}
	if p.Bits() > 29 {
		return ipRange{}, fmt.Errorf("service CIDR %q: too small, use a /29 or larger", cidr)
	}
	p = p.Masked()
	a := p.Addr().As4()
	base := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	return ipRange{prefix: p, base: base, size: 1 << (32 - p.Bits())}, nil
}

// nth returns the address at offset i from the network address.
func (r ipRange) nth(i uint64) netip.Addr {
	v := r.base + uint32(i)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// kubernetesIP is the address of the "kubernetes" Service: the first host.
func (r ipRange) kubernetesIP() netip.Addr { return r.nth(1) }

// contains says whether ip may be held by a Service: inside the prefix and
// neither the network nor the broadcast address.
func (r ipRange) contains(ip netip.Addr) bool {
	if !r.prefix.Contains(ip) {
		return false
	}
	a := ip.As4()
	off := uint64(uint32(a[0])<<24|uint32(a[1])<<16|uint32(a[2])<<8|uint32(a[3])) - uint64(r.base)
	return off >= 1 && off <= r.size-2
}

// dynamic returns the candidates for dynamic allocation: offsets 2 to
// size-2 (the first host is reserved for the kubernetes Service).
func (r ipRange) dynamic() candidates {
	return candidates{first: 2, count: r.size - 3, name: func(i uint64) string { return r.nth(i).String() }}
}

func (r ipRange) String() string { return r.prefix.String() }

// portRange is a node port range such as 30000-32767, both ends included.
type portRange struct {
	first, last int
}

// parsePortRange parses "30000-32767" (or a single port).
func parsePortRange(s string) (portRange, error) {
	lo, hi, found := strings.Cut(s, "-")
	if !found {
		hi = lo
	}
	first, err1 := strconv.Atoi(strings.TrimSpace(lo))
	last, err2 := strconv.Atoi(strings.TrimSpace(hi))
	if err1 != nil || err2 != nil || first < 1 || last > 65535 || first > last {
		return portRange{}, fmt.Errorf("node port range %q: want FIRST-LAST within 1-65535", s)
	}
	return portRange{first: first, last: last}, nil
}

func (r portRange) contains(port int) bool { return port >= r.first && port <= r.last }

func (r portRange) all() candidates {
	return candidates{first: uint64(r.first), count: uint64(r.last - r.first + 1),
		name: func(i uint64) string { return strconv.FormatUint(i, 10) }}
}

func (r portRange) String() string { return fmt.Sprintf("%d-%d", r.first, r.last) }

// candidates are the values a dynamic allocation picks from: the names
// of the integers first .. first+count-1.
type candidates struct {
	first, count uint64
	name         func(uint64) string
}

// randomTries is how many random candidates are tried before the
// allocator lists what is taken and picks among the rest. Random picks
// keep concurrent allocators (several API servers) from colliding on the
// same next free value; the list makes a nearly full range still work.
const randomTries = 8

// allocator hands out values, one store key under prefix each.
type allocator struct {
	store  store.Store
	prefix string // ends in "/"
	pool   candidates
}

func newAllocator(st store.Store, what string, pool candidates) *allocator {
	return &allocator{store: st, prefix: "/registry/allocations/" + what + "/", pool: pool}
}

// allocate takes a random free value for holder.
func (a *allocator) allocate(ctx context.Context, holder string) (string, error) {
	for i := 0; i < randomTries; i++ {
		v := a.pool.name(a.pool.first + rand.Uint64N(a.pool.count))
		err := a.claim(ctx, v, holder)
		if !errors.Is(err, errAllocated) {
			return v, err
		}
	}
	// A crowded range: list what is taken and walk the rest from a random
	// start, claiming the first value nobody else gets first.
	taken, err := a.taken(ctx)
	if err != nil {
		return "", err
	}
	start := rand.Uint64N(a.pool.count)
	for j := uint64(0); j < a.pool.count; j++ {
		v := a.pool.name(a.pool.first + (start+j)%a.pool.count)
		if taken[v] {
			continue
		}
		if err := a.claim(ctx, v, holder); !errors.Is(err, errAllocated) {
			return v, err
		}
	}
	return "", errFull
}

// taken returns the values some key holds.
func (a *allocator) taken(ctx context.Context) (map[string]bool, error) {
	res, err := a.store.List(ctx, a.prefix, store.ListOptions{})
	if err != nil {
		return nil, err
	}
	taken := make(map[string]bool, len(res.KVs))
	for _, kv := range res.KVs {
		taken[strings.TrimPrefix(kv.Key, a.prefix)] = true
	}
	return taken, nil
}

// claim takes value v for holder; errAllocated if anyone holds it.
func (a *allocator) claim(ctx context.Context, v, holder string) error {
	_, err := a.store.Create(ctx, a.prefix+v, []byte(holder))
	if errors.Is(err, apierrors.ErrAlreadyExists) {
		return errAllocated
	}
	return err
}

// release frees v if holder holds it. A value someone else holds (or
// nobody) is left alone, so a late release can never free a value that
// was handed out again meanwhile.
func (a *allocator) release(ctx context.Context, v, holder string) error {
	kv, err := a.store.Get(ctx, a.prefix+v)
	if errors.Is(err, apierrors.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if string(kv.Value) != holder {
		return nil
	}
	_, err = a.store.Delete(ctx, kv.Key, kv.ModRevision)
	if errors.Is(err, apierrors.ErrNotFound) || errors.Is(err, apierrors.ErrConflict) {
		return nil // released or re-taken by someone else meanwhile
	}
	return err
}

// holder returns who holds v ("" if nobody).
func (a *allocator) holder(ctx context.Context, v string) (string, error) {
	kv, err := a.store.Get(ctx, a.prefix+v)
	if errors.Is(err, apierrors.ErrNotFound) {
		return "", nil
	}
	return string(kv.Value), err
}
