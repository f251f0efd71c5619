package config

import (
	"cmp"
	"fmt"
	"math/big"
	"net/netip"
	"slices"
	"strings"
)

// A proxy tier is a few addresses, or a provider's published ranges: a
// range of TRUSTED_PROXIES wider than these (a shorter prefix) is refused.
// The widest a proxy tier's range is in practice: IPv4's widest private
// range (10.0.0.0/8), and for IPv6 a CDN's (CloudFront's 2600:9000::/28;
// Cloudflare's widest is a /29). Trusting more would let clients anywhere
// in the range name their own address in X-Forwarded-For, and so pick the
// address their failed authentications are counted against.
const (
	widestIPv4Proxies = 8
	widestIPv6Proxies = 28
)

// trustedProxies reads TRUSTED_PROXIES: IP addresses and CIDR ranges
// (10.0.0.0/8, 2001:db8::/32), separated by commas. A mistake stops the
// start rather than trust some other set of peers, and so does a range
// wider than a proxy tier (see widestIPv4Proxies), whether written as one
// (0.0.0.0/0, 0.0.0.0/1) or as ranges that overlap or adjoin
// (0.0.0.0/1,128.0.0.0/1): those are held to the bound together.
func trustedProxies(v string) ([]netip.Prefix, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	var (
		proxies []netip.Prefix
		items   []string
	)
	for item := range strings.SplitSeq(v, ",") {
		item = strings.TrimSpace(item)
		p, err := proxyPrefix(item)
		if err != nil {
			return nil, fmt.Errorf("TRUSTED_PROXIES must be IP addresses or CIDR ranges separated by commas, such as 10.0.0.0/8,192.0.2.7: %q %v", item, err)
		}
		proxies, items = append(proxies, p), append(items, item)
	}
	if err := tooWide(proxies, items); err != nil {
		return nil, err
	}
	return proxies, nil
}

// proxyPrefix is one item of TRUSTED_PROXIES as a range: an address is a
// range of one, an IPv4 address written in IPv6 (::ffff:10.0.0.1) is its
// IPv4 address.
func proxyPrefix(item string) (netip.Prefix, error) {
	var p netip.Prefix
	if strings.Contains(item, "/") {
		var err error
		if p, err = netip.ParsePrefix(item); err != nil {
			return p, fmt.Errorf("is not a CIDR range")
		}
	} else {
		a, err := netip.ParseAddr(item)
		if err != nil || a.Zone() != "" {
			return p, fmt.Errorf("is not an IP address")
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if a := p.Addr(); a.Is4In6() {
		if p.Bits() < 96 {
			return p, fmt.Errorf("mixes IPv4 and IPv6")
		}
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// tooWide refuses proxies (as written in items) that cover, alone or with
// the ranges they overlap or adjoin, more addresses than the widest range
// of a proxy tier.
func tooWide(proxies []netip.Prefix, items []string) error {
	order := make([]int, len(proxies))
	for i := range order {
		order[i] = i
	}
	// By first address, a wider range before the ranges it holds.
	slices.SortFunc(order, func(i, j int) int {
		return cmp.Or(proxies[i].Addr().Compare(proxies[j].Addr()), cmp.Compare(proxies[i].Bits(), proxies[j].Bits()))
	})
	var r span
	for _, i := range order {
		p := proxies[i]
		switch last := lastAddr(p); {
		case r.items == nil || (p.Addr().Compare(r.last) > 0 && p.Addr() != r.last.Next()):
			if err := r.check(); err != nil {
				return err
			}
			r = span{first: p.Addr(), last: last, size: big.NewInt(0)}
			r.add(p, items[i])
		case last.Compare(r.last) > 0: // adjoins: prefixes that overlap nest
			r.last = last
			r.add(p, items[i])
		} // else within a range already counted
	}
	return r.check()
}

// span is a run of trusted ranges that overlap or adjoin: from first to
// last, size addresses, written as items (those within another left out).
type span struct {
	first, last netip.Addr
	size        *big.Int
	items       []string
}

func (r *span) add(p netip.Prefix, item string) {
	r.size.Add(r.size, new(big.Int).Lsh(big.NewInt(1), uint(p.Addr().BitLen()-p.Bits())))
	r.items = append(r.items, item)
}

// check refuses r when it is wider than a proxy tier's widest range.
func (r *span) check() error {
	if r.items == nil {
		return nil
	}
	widest := widestIPv4Proxies
	if r.first.Is6() {
		widest = widestIPv6Proxies
	}
	if r.size.Cmp(new(big.Int).Lsh(big.NewInt(1), uint(r.first.BitLen()-widest))) <= 0 {
		return nil
	}
	where := fmt.Sprintf("%q", r.items[0])
	if len(r.items) > 1 {
		where = fmt.Sprintf("%q to %q (%d ranges that overlap or adjoin, %s to %s)", r.items[0], r.items[len(r.items)-1], len(r.items), r.first, r.last)
	}
	return fmt.Errorf("TRUSTED_PROXIES must name proxies, in ranges no wider than /%d for IPv4 and /%d for IPv6, together where they overlap or adjoin: a client anywhere in %s could name its own address in X-Forwarded-For",
		widestIPv4Proxies, widestIPv6Proxies, where)
}

// lastAddr is the last address of p, a masked prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}
