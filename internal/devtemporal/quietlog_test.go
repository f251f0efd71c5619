package devtemporal

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
)

// recorder is a log.Logger that keeps the messages it is given.
type recorder struct {
	log.Logger
	msgs *[]string
}

func (r recorder) Warn(msg string, _ ...tag.Tag)  { *r.msgs = append(*r.msgs, msg) }
func (r recorder) Error(msg string, _ ...tag.Tag) { *r.msgs = append(*r.msgs, msg) }

// The server's services complain about each other going away while they
// stop; once Stop has begun, nothing of that reaches the console, from the
// root logger or from any logger the services derived from it.
func TestStoppingLoggerIsSilentOnceStopped(t *testing.T) {
	var msgs []string
	root := newStoppingLogger(recorder{Logger: log.NewNoopLogger(), msgs: &msgs})
	derived := root.With(tag.NewStringTag("service", "matching"))

	root.Warn("before stop")
	derived.Error("derived before stop")
	root.stop()
	root.Error("Not enough hosts to serve the request")
	derived.Warn("network dial error")

	assert.Equal(t, []string{"before stop", "derived before stop"}, msgs)
}
