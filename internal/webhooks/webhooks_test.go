package webhooks

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The example from the Standard Webhooks specification, so receivers using
// its libraries verify our signatures.
func TestSignMatchesStandardWebhooks(t *testing.T) {
	sig, err := Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	require.NoError(t, err)
	assert.Equal(t, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", sig)

	_, err = Sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "id", 1, nil)
	assert.Error(t, err, "a secret without its prefix")
}

func TestNewSecretsAreDistinctKeys(t *testing.T) {
	a, err := NewSecret()
	require.NoError(t, err)
	b, err := NewSecret()
	require.NoError(t, err)
	assert.NotEqual(t, a, b)
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, secretPrefix))
	require.NoError(t, err)
	assert.Len(t, key, 32)
}

func TestCheckURL(t *testing.T) {
	secure, insecure := Config{}, Config{AllowInsecure: true}
	cases := []struct {
		url      string
		config   Config
		accepted bool
	}{
		{"https://93.184.215.14/hooks", secure, true},
		{"https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/hooks", secure, true},
		{"http://93.184.215.14/hooks", secure, false},
		{"http://93.184.215.14/hooks", insecure, false},
		{"http://127.0.0.1:8080/hooks", insecure, true},
		{"http://localhost:8080/hooks", insecure, true},
		{"http://[::1]:8080/hooks", insecure, true},
		{"https://93.184.215.14:8443/hooks", secure, true},
		{"https://93.184.215.14:65535/hooks", secure, true},
		{"https://93.184.215.14:0/hooks", secure, false},
		{"https://93.184.215.14:65536/hooks", secure, false},
		{"https://93.184.215.14:99999/hooks", secure, false},
		{"http://127.0.0.1:0/hooks", insecure, false},
		{"http://127.0.0.1:8080/ok?x=a b", insecure, false}, // every delivery's request line would break
		{"http://127.0.0.1:8080/ok?x=a%20b", insecure, true},
		{"http://127.0.0.1:8080/ok\t", insecure, false},
		{"https://93.184.215.14/hooks\x7f", secure, false},
		{"http://127.0.0.1:8080/hooks", secure, false},
		{"https://127.0.0.1/hooks", secure, false},
		{"https://localhost/hooks", secure, false},
		{"https://10.1.2.3/hooks", secure, false},
		{"https://172.16.0.1/hooks", secure, false},
		{"https://192.168.1.1/hooks", secure, false},
		{"https://169.254.169.254/latest/meta-data", secure, false},
		{"https://100.100.100.200/hooks", secure, false},
		{"https://0.0.0.0/hooks", secure, false},
		{"https://[fe80::1]/hooks", secure, false},
		{"https://[fd00::1]/hooks", secure, false},
		{"https://[::ffff:10.0.0.1]/hooks", secure, false},
		{"https://[64:ff9b::a00:1]/hooks", secure, false},
		{"https://[2002:a00:1::1]/hooks", secure, false}, // 6to4 wrapping 10.0.0.1
		{"https://[fec0::1]/hooks", secure, false},
		{"https://198.18.0.1/hooks", secure, false},
		{"https://240.0.0.1/hooks", secure, false},
		{"https://224.0.0.1/hooks", secure, false},
		{"https://255.255.255.255/hooks", secure, false},
		{"https://[ff02::1]/hooks", secure, false},
		{"https://[::]/hooks", secure, false},
		{"https://[::1]/hooks", secure, false},
		{"https://[::127.0.0.1]/hooks", secure, false}, // IPv4-compatible
		{"https://[::5db8:d70e]/hooks", secure, false}, // IPv4-compatible, even of a public address
		{"https://[::ffff:127.0.0.1]/hooks", secure, false},
		{"https://[::ffff:7f00:1]/hooks", secure, false},                        // IPv4-mapped, written in hex
		{"https://[0:0:0:0:0:ffff:7f00:1]/hooks", secure, false},                // IPv4-mapped, written in full
		{"https://[::ffff:0:7f00:1]/hooks", secure, false},                      // SIIT's IPv4-translated 127.0.0.1
		{"https://[::ffff:0:127.0.0.1]/hooks", secure, false},                   // the same, written dotted
		{"https://[64:ff9b::7f00:1]/hooks", secure, false},                      // NAT64 of 127.0.0.1
		{"https://[64:ff9b::5db8:d70e]/hooks", secure, false},                   // NAT64, even of a public address
		{"https://[64:ff9b:1::a00:1]/hooks", secure, false},                     // local-use NAT64
		{"https://[2001::1]/hooks", secure, false},                              // Teredo
		{"https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hooks", secure, false}, // Teredo wrapping 127.0.0.1
		{"https://[2001:2::1]/hooks", secure, false},                            // benchmarking
		{"https://[100::1]/hooks", secure, false},                               // discard-only
		{"https://[2001:db8::1]/hooks", secure, false},                          // documentation
		{"https://[3fff::1]/hooks", secure, false},                              // documentation
		{"https://[2002:7f00:1::1]/hooks", secure, false},                       // 6to4 wrapping 127.0.0.1
		{"https://[fc00::1]/hooks", secure, false},
		{"https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c%25eth0]/hooks", secure, false}, // a zone names an interface of ours
		{"https://192.0.0.1/hooks", secure, false},                                       // IETF protocol assignments
		{"https://192.0.2.1/hooks", secure, false},                                       // documentation
		{"https://198.51.100.1/hooks", secure, false},                                    // documentation
		{"https://203.0.113.1/hooks", secure, false},                                     // documentation
		{"https://198.19.255.255/hooks", secure, false},
		{"https://192.88.99.1/hooks", secure, false}, // 6to4 relay anycast
		{"https://[::ffff:198.51.100.1]/hooks", secure, false},
		{"https://user:pass@93.184.215.14/hooks", secure, false},
		{"ftp://93.184.215.14/hooks", secure, false},
		{"/hooks", secure, false},
		{"https:///hooks", secure, false},
		{"https://93.184.215.14/" + strings.Repeat("a", MaxURLLength), secure, false},
	}
	for _, c := range cases {
		err := c.config.CheckURL(context.Background(), c.url)
		if c.accepted {
			assert.NoError(t, err, "%s (insecure=%v)", c.url, c.config.AllowInsecure)
		} else {
			assert.Error(t, err, "%s (insecure=%v)", c.url, c.config.AllowInsecure)
		}
	}
}

// The refusal names the host but neither what it resolves to nor whether it
// resolves at all: a tenant's operator must not learn where names inside
// our network lead.
func TestCheckURLDoesNotTellWhereAHostLeads(t *testing.T) {
	err := Config{}.CheckURL(context.Background(), "https://localhost/hooks")
	require.Error(t, err)
	assert.Equal(t, `the host "localhost" must resolve to public addresses only`, err.Error())
	assert.NotContains(t, err.Error(), "127.0.0.1")
	assert.NotContains(t, err.Error(), "::1")
}

// Connections are checked on the address as dialled, zone included, which
// the URL check only sees as a literal: a zone is refused even on a public
// address, and an IPv4-mapped address is judged as its IPv4 one.
func TestPublicRefusesZonesAndUnmaps(t *testing.T) {
	cases := map[string]bool{
		"93.184.215.14":                               true,
		"::ffff:93.184.215.14":                        true,
		"::ffff:192.0.2.1":                            false,
		"2606:2800:21f:cb07:6820:80da:af6b:8b2c":      true,
		"2606:2800:21f:cb07:6820:80da:af6b:8b2c%eth0": false,
		"fe80::1%eth0":                                false,
	}
	for addr, want := range cases {
		assert.Equal(t, want, public(netip.MustParseAddr(addr)), addr)
	}
}

func TestSendSignsAndKeepsTheStartOfTheAnswer(t *testing.T) {
	type received struct {
		header http.Header
		body   []byte
	}
	got := make(chan received, 1)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- received{r.Header.Clone(), body}
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(strings.Repeat("é", MaxStoredBody)))
	}))
	defer receiver.Close()
	secret, err := NewSecret()
	require.NoError(t, err)

	resp, err := NewSender(Config{AllowInsecure: true}).Send(context.Background(), Message{URL: receiver.URL, Secret: secret, ID: "evt-1", Body: []byte(`{"a":1}`)})
	require.NoError(t, err)
	assert.True(t, resp.Delivered())
	assert.Equal(t, http.StatusAccepted, resp.StatusCode)
	assert.LessOrEqual(t, len(resp.Body), MaxStoredBody)
	assert.Equal(t, strings.Repeat("é", MaxStoredBody/2), resp.Body)
	assert.Positive(t, resp.Latency)

	r := <-got
	assert.Equal(t, `{"a":1}`, string(r.body))
	assert.Equal(t, "evt-1", r.header.Get("Webhook-Id"))
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	ts, err := strconv.ParseInt(r.header.Get("Webhook-Timestamp"), 10, 64)
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now(), time.Unix(ts, 0), time.Minute)
	// Verified from the scheme's definition, not with Sign.
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	require.NoError(t, err)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("evt-1." + r.header.Get("Webhook-Timestamp") + `.{"a":1}`))
	assert.Equal(t, "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)), r.header.Get("Webhook-Signature"))
}

func TestSendFollowsNoRedirect(t *testing.T) {
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data", http.StatusFound)
	}))
	defer receiver.Close()
	secret, err := NewSecret()
	require.NoError(t, err)
	resp, err := NewSender(Config{AllowInsecure: true}).Send(context.Background(), Message{URL: receiver.URL, Secret: secret, ID: "evt-1"})
	require.NoError(t, err)
	assert.Equal(t, http.StatusFound, resp.StatusCode)
	assert.False(t, resp.Delivered())
}

// Outside insecure mode the resolved address is checked when connecting, so
// a URL that passed its check cannot reach a private address later.
func TestSendRefusesPrivateAddressesWhenConnecting(t *testing.T) {
	receiver := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the receiver on loopback was reached")
	}))
	defer receiver.Close()
	secret, err := NewSecret()
	require.NoError(t, err)
	resp, err := NewSender(Config{}).Send(context.Background(), Message{URL: receiver.URL, Secret: secret, ID: "evt-1"})
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrForbiddenAddress), "%v", err)
	assert.Zero(t, resp.StatusCode)

	_, err = NewSender(Config{}).Send(context.Background(), Message{URL: "http://127.0.0.1:1/hooks", Secret: secret, ID: "evt-1"})
	assert.Error(t, err, "http is refused outside insecure mode")
}

func TestStorableKeepsValidTextOnly(t *testing.T) {
	assert.Equal(t, "a\uFFFDb", storable([]byte("a\xffb\x00")))
	assert.Len(t, storable([]byte(strings.Repeat("x", 2*MaxStoredBody))), MaxStoredBody)
}

// A receiver cannot make an attempt read megabytes of headers (a probe's
// answered with 9 MB, which Go's default of 10 MB accepted): past
// maxResponseHeaderBytes the attempt fails.
func TestSendBoundsTheAnswersHeaders(t *testing.T) {
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := range 4 {
			w.Header().Set(fmt.Sprintf("X-Padding-%d", i), strings.Repeat("x", maxResponseHeaderBytes/2))
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer receiver.Close()
	secret, err := NewSecret()
	require.NoError(t, err)
	resp, err := NewSender(Config{AllowInsecure: true}).Send(context.Background(), Message{URL: receiver.URL, Secret: secret, ID: "evt-1"})
	require.Error(t, err)
	assert.False(t, resp.Delivered())
}
