package flow

import (
	"encoding/json"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/domain"
)

func pageOfRefs(n int, tenantID, clockID string) InvoiceRefs {
	refs := make(InvoiceRefs, n)
	for i := range refs {
		refs[i] = InvoiceRef{
			TenantID: tenantID, ContractID: uuid.NewString(), InvoiceID: uuid.NewString(),
			DueDate: domain.NewDate(2026, 12, 1+i%28), TestClockID: clockID,
		}
	}
	return refs
}

// A page's references, written compactly, read back as they were, at about
// half the size of the list of objects, which is what sets how often a
// billing run continues as new.
func TestInvoiceRefsRoundTripCompactly(t *testing.T) {
	for _, clockID := range []string{"", "clock-1"} {
		refs := pageOfRefs(500, uuid.NewString(), clockID)
		compact, err := json.Marshal(refs)
		require.NoError(t, err)
		legacy, err := json.Marshal([]InvoiceRef(refs))
		require.NoError(t, err)
		assert.Less(t, len(compact), len(legacy)*6/10, "compact %d bytes, list %d", len(compact), len(legacy))

		var back InvoiceRefs
		require.NoError(t, json.Unmarshal(compact, &back))
		assert.Equal(t, refs, back)
	}
}

// A workflow worker of a release before InvoiceRefs writes a batch's
// invoices as a list of objects; a batch of invoices that do not share a
// tenant and clock is written as that list too.
func TestInvoiceRefsReadAndWriteTheListOfObjects(t *testing.T) {
	mixed := append(pageOfRefs(2, "t1", ""), pageOfRefs(1, "t1", "clock-1")...)
	b, err := json.Marshal(CollectInvoicesInput{TenantID: "t1", Invoices: mixed})
	require.NoError(t, err)
	var in struct{ Invoices []InvoiceRef }
	require.NoError(t, json.Unmarshal(b, &in), "a reader of the list of objects reads it")
	assert.Equal(t, []InvoiceRef(mixed), in.Invoices)

	written := `{"TenantID":"t1","Attempt":0,"Invoices":[{"TenantID":"t1","ContractID":"c1","InvoiceID":"i1","DueDate":"2026-11-01"}]}`
	var batch CollectInvoicesInput
	require.NoError(t, json.Unmarshal([]byte(written), &batch))
	assert.Equal(t, InvoiceRefs{{TenantID: "t1", ContractID: "c1", InvoiceID: "i1", DueDate: domain.NewDate(2026, 11, 1)}}, batch.Invoices)

	for _, empty := range []string{`{"Invoices":null}`, `{"Invoices":[]}`, `{}`} {
		var b CollectInvoicesInput
		require.NoError(t, json.Unmarshal([]byte(empty), &b))
		assert.Empty(t, b.Invoices)
	}
	var bad InvoiceRefs
	assert.Error(t, json.Unmarshal([]byte(`{"tenant":"t1","invoices":[["c1","i1","not a date"]]}`), &bad))
}

// A page's invoices are in Refs when the run asked for them compactly, and
// in Collect when it did not, or when a worker of a release before
// CompactRefs invoiced it; ToCollect reads either.
func TestInvoicePageToCollectReadsEitherField(t *testing.T) {
	refs := pageOfRefs(3, "t1", "")
	assert.Equal(t, refs, InvoicePage{Refs: refs}.ToCollect())
	assert.Equal(t, refs, InvoicePage{Collect: refs}.ToCollect())
	recorded := `{"Checked":1,"Collect":[{"TenantID":"t1","ContractID":"c1","InvoiceID":"i1","DueDate":"2026-11-01"}],"LastRef":4,"More":true}`
	var page InvoicePage
	require.NoError(t, json.Unmarshal([]byte(recorded), &page))
	assert.Equal(t, InvoiceRefs{{TenantID: "t1", ContractID: "c1", InvoiceID: "i1", DueDate: domain.NewDate(2026, 11, 1)}}, page.ToCollect())
	assert.Empty(t, InvoicePage{}.ToCollect())
}
