package config

import (
	"fmt"
	"net/netip"
	"strings"
)

// trustedProxies reads TRUSTED_PROXIES: IP addresses and CIDR ranges
// (10.0.0.0/8, 2001:db8::/32), separated by commas. A mistake stops the
// start rather than trust some other set of peers, and so does a range of
// every address (0.0.0.0/0, ::/0), which would let any client name its own
// address in X-Forwarded-For.
func trustedProxies(v string) ([]netip.Prefix, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	var proxies []netip.Prefix
	for item := range strings.SplitSeq(v, ",") {
		item = strings.TrimSpace(item)
		p, err := proxyPrefix(item)
		if err != nil {
			return nil, fmt.Errorf("TRUSTED_PROXIES must be IP addresses or CIDR ranges separated by commas, such as 10.0.0.0/8,192.0.2.7: %q %v", item, err)
		}
		proxies = append(proxies, p)
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
	if p.Bits() == 0 {
		return p, fmt.Errorf("would trust every client")
	}
	return p.Masked(), nil
}
