package api

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/store"
)

// An event larger than a page is a page of its own, so the feed moves on
// past it rather than answering empty pages for ever; the event after it
// starts the next page. (No catalog makes an event that large, which is
// why this is not tried through the API.)
func TestAnEventLargerThanAPageIsAPageOfItsOwn(t *testing.T) {
	huge := store.Event{Sequence: 1, Data: json.RawMessage(`"` + strings.Repeat("x", maxEventPageBytes) + `"`)}
	small := store.Event{Sequence: 2, Data: json.RawMessage(`{}`)}

	fits := eventPageFits()
	first, err := fits(huge)
	require.NoError(t, err)
	assert.True(t, first, "the first event fits, however large")
	next, err := fits(small)
	require.NoError(t, err)
	assert.False(t, next, "the page is full after it")
}
