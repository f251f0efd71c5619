package flow

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.temporal.io/api/serviceerror"
)

// The server may end a long poll at the wait's deadline before the client's
// timer fires: its Canceled or DeadlineExceeded means the wait is over too.
func TestTheWaitEndsWithTheServersLongPoll(t *testing.T) {
	ctx := context.Background()
	assert.True(t, waitEnded(ctx, serviceerror.NewCanceled("stream terminated by RST_STREAM with error code: CANCEL")))
	assert.True(t, waitEnded(ctx, serviceerror.NewDeadlineExceeded("deadline")))
	assert.False(t, waitEnded(ctx, errors.New("billing run failed")))
	expired, cancel := context.WithTimeout(ctx, 0)
	defer cancel()
	assert.True(t, waitEnded(expired, errors.New("whatever the SDK made of it")))
}
