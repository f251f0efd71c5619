package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
)

// MaxURLLength bounds a subscription URL.
const MaxURLLength = 2048

// ErrForbiddenAddress is a receiver address webhooks may not reach: outside
// insecure mode, anything but a public unicast address.
var ErrForbiddenAddress = errors.New("the address is not a public one")

// globalUnicastV6 is the only block IANA allocates global unicast IPv6
// addresses from. Outside it everything is special-purpose, reserved or
// unassigned, among them forms a kernel or a gateway turns into an IPv4
// address, private ones too: IPv4-compatible ::a.b.c.d, SIIT's
// ::ffff:0:a.b.c.d, NAT64 64:ff9b::/96 and its local-use 64:ff9b:1::/48;
// and discard-only 100::/64, site-local fec0::/10 and unique local fc00::/7.
// Allowing this block rather than listing what lies outside it refuses the
// forms nobody has thought of yet.
var globalUnicastV6 = netip.MustParsePrefix("2000::/3")

// notPublic are ranges that pass netip's global-unicast and private checks
// (and lie in globalUnicastV6, for IPv6) but are not global: they lead
// inside a network, to nobody, or to an IPv4 address they embed. From
// IANA's special-purpose address registries.
var notPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT, used for cloud metadata services
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation (TEST-NET-1)
	netip.MustParsePrefix("192.88.99.0/24"),  // 6to4 relay anycast, deprecated: relays unwrap any IPv4 address
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking, used inside networks
	netip.MustParsePrefix("198.51.100.0/24"), // documentation (TEST-NET-2)
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation (TEST-NET-3)
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and the limited broadcast 255.255.255.255
	netip.MustParsePrefix("2001::/23"),       // IETF protocol assignments: Teredo 2001::/32 embeds any IPv4 address; benchmarking 2001:2::/48
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("2002::/16"),       // 6to4, which wraps any IPv4 address, private ones too
	netip.MustParsePrefix("3fff::/20"),       // documentation
}

// public reports whether a receiver at ip may be reached outside insecure mode.
func public(ip netip.Addr) bool {
	if ip.Zone() != "" {
		// A zone names one of our own interfaces, and a prefix never
		// contains a zoned address: a receiver on the internet needs none.
		return false
	}
	ip = ip.Unmap()
	if ip.Is6() && !globalUnicastV6.Contains(ip) {
		return false
	}
	if !ip.IsGlobalUnicast() || ip.IsPrivate() {
		return false
	}
	for _, p := range notPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// CheckURL refuses a URL webhooks may not be sent to. Outside insecure mode
// it also resolves the host and refuses it when any of its addresses is not
// public; the addresses are checked again on every delivery, as DNS answers
// change.
func (c Config) CheckURL(ctx context.Context, raw string) error {
	u, err := c.parseURL(raw)
	if err != nil || c.AllowInsecure {
		return err
	}
	host := u.Hostname()
	// One answer whether the host does not resolve or resolves to an address
	// that is not public, and never the address: anything more would tell a
	// tenant's operator which names exist inside our network and where they lead.
	refused := fmt.Errorf("the host %q must resolve to public addresses only", host)
	if ip, err := netip.ParseAddr(host); err == nil && !public(ip) {
		// Checked as written: the resolver drops an address's zone.
		return refused
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return refused
	}
	for _, ip := range addrs {
		if !public(ip) {
			return refused
		}
	}
	return nil
}

// parseURL checks what can be checked without the network: an absolute
// https URL without credentials, or http to a loopback host in insecure mode.
func (c Config) parseURL(raw string) (*url.URL, error) {
	if len(raw) > MaxURLLength {
		return nil, fmt.Errorf("the URL is longer than %d characters", MaxURLLength)
	}
	if i := strings.IndexFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }); i >= 0 {
		// url.Parse keeps a space in a query, which every delivery would
		// then send in its request line, refused by the receiver for 72 h.
		return nil, errors.New("the URL must not contain spaces or control characters; percent-encode them")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Hostname() == "" {
		return nil, errors.New("the URL must be an absolute https URL")
	}
	if u.User != nil {
		// Subscriptions are listed with their URL; receivers authenticate us by signature.
		return nil, errors.New("the URL must not carry credentials; verify the Webhook-Signature header instead")
	}
	if p := u.Port(); p != "" {
		// url.Parse takes any digits: port 0 or 99999 would fail every delivery.
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("the URL's port %s is not a port (1 to 65535)", p)
		}
	}
	switch {
	case u.Scheme == "https":
		return u, nil
	case u.Scheme == "http" && c.AllowInsecure && loopbackHost(u.Hostname()):
		return u, nil
	case u.Scheme == "http" && c.AllowInsecure:
		return nil, errors.New("the URL must use https; http is allowed to loopback hosts only")
	default:
		return nil, errors.New("the URL must use https")
	}
}

func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// checkDial refuses, outside insecure mode, to connect to an address that is
// not public. It runs on the resolved address of every connection, so a host
// that resolved to a public address when the subscription was made cannot
// later lead inside the network.
func (c Config) checkDial(_, address string, _ syscall.RawConn) error {
	if c.AllowInsecure {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dial %q: %w", address, err)
	}
	if !public(ap.Addr()) {
		return fmt.Errorf("dial %s: %w", ap.Addr(), ErrForbiddenAddress)
	}
	return nil
}
