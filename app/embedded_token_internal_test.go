package app

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/contractd/contractd/internal/config"
)

// A process presents the embedded server's write token when it dials that
// server (the README's way: TEMPORAL_ADDRESS at 127.0.0.1:7233 for api and
// worker beside `contractd temporal`), and never to another Temporal.
func TestTheWriteTokenGoesOnlyToTheEmbeddedServer(t *testing.T) {
	cfg := config.Config{TemporalDevPort: 7233, UpdateKey: []byte("a key of at least thirty-two characters")}
	token := cfg.EmbeddedTemporalToken()
	for address, want := range map[string]string{
		"":                      token,
		"127.0.0.1:7233":        token,
		"localhost:7233":        token,
		"[::1]:7233":            token,
		"127.0.0.1:7234":        "",
		"temporal:7233":         "",
		"10.0.0.5:7233":         "",
		"temporal.prod:443":     "",
		"not an address at all": "",
	} {
		cfg.TemporalAddress = address
		assert.Equal(t, want, embeddedToken(cfg), "%q", address)
	}
	cfg.TemporalAddress, cfg.TemporalUIWriteActions = "", true
	assert.Empty(t, embeddedToken(cfg), "a server whose UI may write lets anyone write")
	assert.Empty(t, embeddedServerToken(cfg))
}
