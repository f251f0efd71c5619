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

// Ranges apart from one another are held to a bound in all, per family:
// as many addresses as this many of a proxy tier's widest range (four /8s,
// 2^26 IPv4 addresses; four /28s, 2^102 IPv6). Within the width of a tier,
// 64 IPv4 /8s apart (1.0.0.0/8,3.0.0.0/8,...) had trusted a quarter of
// the Internet. Four, not two: a real list is often the private ranges and
// loopback many frameworks trust by default (10.0.0.0/8, 172.16.0.0/12,
// 192.168.0.0/16, 127.0.0.0/8: already over two /8s), with 100.64.0.0/10
// and a CDN's whole list (CloudFront's 200-odd IPv4 ranges, about 4.2
// million addresses; Cloudflare's 15, about 1.5 million), about 45 million
// addresses in all; for IPv6, CloudFront's /28 with Cloudflare's /29 and
// /32s are nearly two /28s. Four /8s are a 64th of IPv4.
const widestRangesInAll = 4

// trustedProxies reads TRUSTED_PROXIES: IP addresses and CIDR ranges
// (10.0.0.0/8, 2001:db8::/32), separated by commas. A mistake stops the
// start rather than trust some other set of peers, and so does a range
// wider than a proxy tier (see widestIPv4Proxies), whether written as one
// (0.0.0.0/0, 0.0.0.0/1) or as ranges that overlap or adjoin
// (0.0.0.0/1,128.0.0.0/1): those are held to the bound together. So does
// a list covering more addresses in all than widestRangesInAll such ranges.
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
// of a proxy tier, or in all more than widestRangesInAll such ranges.
func tooWide(proxies []netip.Prefix, items []string) error {
	runs := spans(proxies, items)
	for _, r := range runs {
		if err := r.check(); err != nil {
			return err
		}
	}
	for _, is6 := range []bool{false, true} {
		if err := tooManyInAll(runs, is6); err != nil {
			return err
		}
	}
	return nil
}

// spans are proxies (as written in items) as runs of ranges that overlap
// or adjoin, in order of address, IPv4 first.
func spans(proxies []netip.Prefix, items []string) []span {
	order := make([]int, len(proxies))
	for i := range order {
		order[i] = i
	}
	// By first address, a wider range before the ranges it holds.
	slices.SortFunc(order, func(i, j int) int {
		return cmp.Or(proxies[i].Addr().Compare(proxies[j].Addr()), cmp.Compare(proxies[i].Bits(), proxies[j].Bits()))
	})
	var runs []span
	for _, i := range order {
		p := proxies[i]
		n := len(runs)
		switch last := lastAddr(p); {
		case n == 0 || (p.Addr().Compare(runs[n-1].last) > 0 && p.Addr() != runs[n-1].last.Next()):
			runs = append(runs, span{first: p.Addr(), last: last, size: big.NewInt(0)})
			runs[n].add(p, items[i])
		case last.Compare(runs[n-1].last) > 0: // adjoins: prefixes that overlap nest
			runs[n-1].last = last
			runs[n-1].add(p, items[i])
		} // else within a range already counted
	}
	return runs
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
	if r.size.Cmp(widestRange(r.first.Is6())) <= 0 {
		return nil
	}
	where := fmt.Sprintf("%q", r.items[0])
	if len(r.items) > 1 {
		where = fmt.Sprintf("%q to %q (%d ranges that overlap or adjoin, %s to %s)", r.items[0], r.items[len(r.items)-1], len(r.items), r.first, r.last)
	}
	return fmt.Errorf("TRUSTED_PROXIES must name proxies, in ranges no wider than /%d for IPv4 and /%d for IPv6, together where they overlap or adjoin: a client anywhere in %s could name its own address in X-Forwarded-For",
		widestIPv4Proxies, widestIPv6Proxies, where)
}

// tooManyInAll refuses the runs of one family (IPv6 if is6) when they
// cover more addresses in all than widestRangesInAll of a tier's widest
// range, naming the ranges counted (those within another left out).
func tooManyInAll(runs []span, is6 bool) error {
	var (
		total = big.NewInt(0)
		items []string
	)
	for _, r := range runs {
		if r.first.Is6() == is6 {
			total.Add(total, r.size)
			items = append(items, r.items...)
		}
	}
	most := new(big.Int).Mul(big.NewInt(widestRangesInAll), widestRange(is6))
	if total.Cmp(most) <= 0 {
		return nil
	}
	family, widest := "IPv4", widestIPv4Proxies
	if is6 {
		family, widest = "IPv6", widestIPv6Proxies
	}
	return fmt.Errorf("TRUSTED_PROXIES must name proxies, no more than %s %s addresses in all (%d ranges of /%d): a client anywhere in %q (%d ranges, %s addresses) could name its own address in X-Forwarded-For",
		most, family, widestRangesInAll, widest, strings.Join(items, ","), len(items), total)
}

// widestRange is how many addresses a proxy tier's widest range holds:
// a /8 of IPv4, a /28 of IPv6 if is6.
func widestRange(is6 bool) *big.Int {
	if is6 {
		return new(big.Int).Lsh(big.NewInt(1), 128-widestIPv6Proxies)
	}
	return new(big.Int).Lsh(big.NewInt(1), 32-widestIPv4Proxies)
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
