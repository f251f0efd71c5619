package worker

import (
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Recorded histories name workflows by the Go function names they were
// first registered under; the flow names must stay those.
func TestFlowNamesAreTheRecordedWorkflowNames(t *testing.T) {
	for name, fn := range workflowsByName() {
		goName := runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Name()
		assert.Equal(t, name, goName[strings.LastIndex(goName, ".")+1:])
	}
}
