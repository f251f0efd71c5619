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

// notPublic are ranges that pass netip's global-unicast and private checks
// but still lead inside a network.
var notPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),  // carrier-grade NAT, used for cloud metadata services
	netip.MustParsePrefix("64:ff9b::/96"),   // NAT64, which maps onto any IPv4 address
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64
	netip.MustParsePrefix("2002::/16"),      // 6to4, which wraps any IPv4 address, private ones too
	netip.MustParsePrefix("fec0::/10"),      // site-local, deprecated but still routed inside some networks
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking, used inside networks
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved
}

// public reports whether a receiver at ip may be reached outside insecure mode.
func public(ip netip.Addr) bool {
	ip = ip.Unmap()
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
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("the host %q does not resolve", host)
	}
	for _, ip := range addrs {
		if !public(ip) {
			return fmt.Errorf("the host %q resolves to %s: %w", host, ip, ErrForbiddenAddress)
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
