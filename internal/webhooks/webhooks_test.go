package webhooks

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
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
