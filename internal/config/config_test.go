package config

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dev publishes its demo keys, so unless told otherwise it answers on
// loopback only; api and worker keep listening on every interface.
func TestListenAddrDefaultsToLoopbackInDev(t *testing.T) {
	t.Setenv("HTTP_ADDR", "")
	cfg, err := FromEnv()
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:8080", cfg.ListenAddr(true))
	assert.Equal(t, ":8080", cfg.ListenAddr(false))
}

func TestListenAddrExplicitVariableOpensDev(t *testing.T) {
	t.Setenv("HTTP_ADDR", ":9000")
	cfg, err := FromEnv()
	require.NoError(t, err)
	assert.Equal(t, ":9000", cfg.ListenAddr(true))
	assert.Equal(t, ":9000", cfg.ListenAddr(false))
}

func TestWaitsArePositiveDurationsWithinTheirBound(t *testing.T) {
	waits := []struct {
		name     string
		def      time.Duration
		read     func(Config) time.Duration
		tooLongs []string
	}{
		{"BILLING_RUN_WAIT", DefaultBillingRunWait, func(c Config) time.Duration { return c.BillingRunWait }, []string{"31s", "1h"}},
		{"AMENDMENT_WAIT", DefaultAmendmentWait, func(c Config) time.Duration { return c.AmendmentWait }, []string{"121s", "1h"}},
		{"BODY_READ_TIMEOUT", DefaultBodyReadTimeout, func(c Config) time.Duration { return c.BodyReadTimeout }, []string{"301s", "1h"}},
	}
	for _, w := range waits {
		t.Setenv(w.name, "")
		cfg, err := FromEnv()
		require.NoError(t, err)
		assert.Equal(t, w.def, w.read(cfg), w.name)

		t.Setenv(w.name, "250ms")
		cfg, err = FromEnv()
		require.NoError(t, err)
		assert.Equal(t, 250*time.Millisecond, w.read(cfg), w.name)

		for _, bad := range append([]string{"0", "-1s", "5", "soon"}, w.tooLongs...) {
			t.Setenv(w.name, bad)
			_, err = FromEnv()
			assert.ErrorContains(t, err, w.name, bad)
		}
		t.Setenv(w.name, "")
	}
}

func TestRatesAreNumbersAtLeastZero(t *testing.T) {
	rates := []struct {
		name string
		def  float64
		read func(Config) float64
	}{
		{"RATE_LIMIT_PER_SECOND", 50, func(c Config) float64 { return c.RateLimitPerSecond }},
		{"AUTH_FAILURES_PER_SECOND", 5, func(c Config) float64 { return c.AuthFailuresPerSecond }},
	}
	for _, r := range rates {
		t.Setenv(r.name, "")
		cfg, err := FromEnv()
		require.NoError(t, err)
		assert.Equal(t, r.def, r.read(cfg), r.name)
		for v, want := range map[string]float64{"0": 0, "0.5": 0.5, "20": 20} {
			t.Setenv(r.name, v)
			cfg, err = FromEnv()
			require.NoError(t, err)
			assert.Equal(t, want, r.read(cfg), r.name)
		}
		for _, bad := range []string{"-1", "NaN", "five", "5/s"} {
			t.Setenv(r.name, bad)
			_, err = FromEnv()
			assert.ErrorContains(t, err, r.name+" must be a number ≥ 0", bad)
		}
		t.Setenv(r.name, "")
	}
}

func TestTrustedProxiesAreAddressesAndRanges(t *testing.T) {
	t.Setenv("TRUSTED_PROXIES", "")
	cfg, err := FromEnv()
	require.NoError(t, err)
	assert.Empty(t, cfg.TrustedProxies, "no proxy is trusted unless configured")

	t.Setenv("TRUSTED_PROXIES", " 10.0.0.0/8, 192.0.2.7,2001:db8::/32 ,::ffff:198.51.100.0/120, 172.16.5.4/12")
	cfg, err = FromEnv()
	require.NoError(t, err)
	var got []string
	for _, p := range cfg.TrustedProxies {
		got = append(got, p.String())
	}
	assert.Equal(t, []string{"10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32", "198.51.100.0/24", "172.16.0.0/12"}, got)

	for bad, why := range map[string]string{
		"10.0.0.0/33":            `"10.0.0.0/33" is not a CIDR range`,
		"proxy.internal":         `"proxy.internal" is not an IP address`,
		"10.0.0.1,,10.0.0.2":     `"" is not an IP address`,
		"10.0.0.1;10.0.0.2":      `is not an IP address`,
		"fe80::1%eth0":           `is not an IP address`,
		"::ffff:10.0.0.0/90":     `mixes IPv4 and IPv6`,
		"10.0.0.1, 300.0.0.1/24": `"300.0.0.1/24" is not a CIDR range`,
	} {
		t.Setenv("TRUSTED_PROXIES", bad)
		_, err := FromEnv()
		if assert.Error(t, err, bad) {
			assert.Contains(t, err.Error(), "TRUSTED_PROXIES must be IP addresses or CIDR ranges", bad)
			assert.Contains(t, err.Error(), why, bad)
		}
	}
}

// A range wider than a proxy tier (IPv4 /8, IPv6 /28) stops the start: a
// client anywhere in it could name its own address in X-Forwarded-For, and
// escape its address's budget of failed authentications. Ranges that
// overlap or adjoin are held to the bound together: split in two halves,
// every address had been trusted.
func TestTrustedProxiesAreNoWiderThanAProxyTier(t *testing.T) {
	for _, fine := range []string{
		"10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10,127.0.0.0/8", // the private ranges, loopback
		"2600:9000::/28,2a06:98c0::/29,2400:cb00::/32,fd12:3456:789a::/48",  // CDNs' ranges, a ULA site
		"10.0.0.0/9,10.128.0.0/9,10.1.0.0/16",                               // halves of a /8, and a range within
		"10.0.0.0/8,12.0.0.0/8",                                             // apart
		"255.0.0.0/8,::/28",                                                 // the last of IPv4, the first of IPv6
	} {
		t.Setenv("TRUSTED_PROXIES", fine)
		_, err := FromEnv()
		assert.NoError(t, err, fine)
	}
	for bad, why := range map[string]string{
		"0.0.0.0/0":                         `anywhere in "0.0.0.0/0" could`,
		"::/0":                              `anywhere in "::/0" could`,
		"10.0.0.1,0.0.0.0/1":                `anywhere in "0.0.0.0/1" could`,
		"::ffff:0.0.0.0/103":                `anywhere in "::ffff:0.0.0.0/103" could`,
		"2600::/27":                         `anywhere in "2600::/27" could`,
		"0.0.0.0/1,128.0.0.0/1":             `anywhere in "0.0.0.0/1" to "128.0.0.0/1" (2 ranges that overlap or adjoin, 0.0.0.0 to 255.255.255.255) could`,
		"11.0.0.0/8, 10.0.0.0/8":            `"10.0.0.0/8" to "11.0.0.0/8" (2 ranges that overlap or adjoin, 10.0.0.0 to 11.255.255.255)`,
		"10.0.0.0/8,10.1.0.0/16,11.0.0.0/9": `"10.0.0.0/8" to "11.0.0.0/9" (2 ranges that overlap or adjoin, 10.0.0.0 to 11.127.255.255)`,
		"::/1,8000::/1":                     `"::/1" to "8000::/1"`,
	} {
		t.Setenv("TRUSTED_PROXIES", bad)
		_, err := FromEnv()
		if assert.Error(t, err, bad) {
			assert.Contains(t, err.Error(), "TRUSTED_PROXIES must name proxies, in ranges no wider than /8 for IPv4 and /28 for IPv6", bad)
			assert.Contains(t, err.Error(), why, bad)
		}
	}
	var all []string
	for i := range 256 {
		all = append(all, fmt.Sprintf("%d.0.0.0/8", i))
	}
	t.Setenv("TRUSTED_PROXIES", strings.Join(all, ","))
	_, err := FromEnv()
	assert.ErrorContains(t, err, `"0.0.0.0/8" to "255.0.0.0/8" (256 ranges that overlap or adjoin, 0.0.0.0 to 255.255.255.255)`)
}

// Ranges apart, each within a proxy tier's width, are held to a bound in
// all, per family: four of the widest range (2^26 IPv4 addresses, 2^102
// IPv6), counting a range within another once. Without it, 64 /8s apart
// trusted a quarter of IPv4 to name its own address in X-Forwarded-For. A
// real list, the private ranges and loopback with a CDN's whole published
// lists (testdata/cdn-proxies.txt), is within it.
func TestTrustedProxiesAreNoMoreInAllThanFourOfTheWidest(t *testing.T) {
	cdn, err := os.ReadFile("testdata/cdn-proxies.txt")
	require.NoError(t, err)
	var cdnProxies []string
	for line := range strings.Lines(string(cdn)) {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			cdnProxies = append(cdnProxies, line)
		}
	}
	for _, fine := range []string{
		"10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,127.0.0.0/8,100.64.0.0/10,::1,fd12:3456:789a::/48," + strings.Join(cdnProxies, ","),
		"1.0.0.0/8,3.0.0.0/8,5.0.0.0/8,7.0.0.0/8",                                                  // four /8s: the bound
		"1.0.0.0/8,1.2.3.0/24,3.0.0.0/8,5.0.0.0/8,7.0.0.0/8,7.7.7.7",                               // what is within a range counted once
		"1.0.0.0/8,3.0.0.0/8,5.0.0.0/8,7.0.0.0/8,2600::/28,2600:20::/28,2600:40::/28,2600:60::/28", // each family on its own
	} {
		t.Setenv("TRUSTED_PROXIES", fine)
		_, err := FromEnv()
		assert.NoError(t, err, fine)
	}
	var apart []string
	for i := range 64 {
		apart = append(apart, fmt.Sprintf("%d.0.0.0/8", 2*i+1))
	}
	const (
		ipv4InAll = "no more than 67108864 IPv4 addresses in all (4 ranges of /8): a client anywhere in "
		ipv6InAll = "no more than 5070602400912917605986812821504 IPv6 addresses in all (4 ranges of /28): a client anywhere in "
	)
	for _, bad := range []struct{ value, why string }{
		{strings.Join(apart, ","), ipv4InAll + `"` + strings.Join(apart, ",") + `" (64 ranges, 1073741824 addresses) could name its own address in X-Forwarded-For`},
		{"1.0.0.0/8,3.0.0.0/8,5.0.0.0/8,7.0.0.0/8,9.0.0.0/8", ipv4InAll + `"1.0.0.0/8,3.0.0.0/8,5.0.0.0/8,7.0.0.0/8,9.0.0.0/8" (5 ranges, 83886080 addresses) could`},
		// one address past the bound; what is within a range left out
		{"7.0.0.0/8, 1.0.0.0/8,3.0.0.0/8,5.0.0.0/8,1.2.3.4, 192.0.2.7", ipv4InAll + `"1.0.0.0/8,3.0.0.0/8,5.0.0.0/8,7.0.0.0/8,192.0.2.7" (5 ranges, 67108865 addresses) could`},
		{"2600::/28,2600:20::/28,2600:40::/28,2600:60::/28,2600:80::/28,2600:80::1", ipv6InAll + `"2600::/28,2600:20::/28,2600:40::/28,2600:60::/28,2600:80::/28" (5 ranges, 6338253001141147007483516026880 addresses) could`},
		// the real list with two /8s more
		{"10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,127.0.0.0/8,100.64.0.0/10,1.0.0.0/8,3.0.0.0/8," + strings.Join(cdnProxies, ","), ipv4InAll + `"1.0.0.0/8,3.0.0.0/8,`},
	} {
		t.Setenv("TRUSTED_PROXIES", bad.value)
		_, err := FromEnv()
		assert.ErrorContains(t, err, "TRUSTED_PROXIES must name proxies, "+bad.why, bad.value)
	}
}
