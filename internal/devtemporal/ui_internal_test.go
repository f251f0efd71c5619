package devtemporal

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Operators inspect, they do not act, unless told otherwise.
func TestEmbeddedUIIsReadOnlyByDefault(t *testing.T) {
	ui := uiConfig(Options{UIPort: 8233, Namespace: "default"}, "127.0.0.1:7233")
	assert.True(t, ui.DisableWriteActions)
	assert.Equal(t, loopback, ui.Host)
	assert.False(t, uiConfig(Options{UIPort: 8233, UIWriteActions: true}, "127.0.0.1:7233").DisableWriteActions)
}
