package activities_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"

	"github.com/contractd/contractd/activities"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/flow"
	"github.com/contractd/contractd/internal/testkit"
)

// A batch whose first try charged its invoices and died before recording
// them is retried; if a contract's schedule was cancelled in between, the
// retry still makes (and so finds) the charge its first try made and
// records it. Deciding afresh skipped it: money taken, invoice unpaid.
func TestARetriedCollectionBatchRecordsWhatItsFirstTryCharged(t *testing.T) {
	env := testkit.New(t)
	env.Clock.Set(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
	ct := env.CreateContract(map[string]any{"quantities": map[string]int{"prod_seat": 2}})
	groups := activities.New(activities.Deps{Store: env.Store, Now: env.Clock.Now})
	var suite testsuite.WorkflowTestSuite

	// The billing run's own activity issues the contract's three due invoices.
	billing := suite.NewTestActivityEnvironment()
	billing.RegisterActivity(groups.Billing)
	asOf, err := domain.ParseDate("2026-03-01")
	require.NoError(t, err)
	issued, err := billing.ExecuteActivity(groups.Billing.InvoiceDuePeriods, flow.InvoicePageInput{TenantID: env.A.ID, AsOf: asOf, Limit: 10})
	require.NoError(t, err)
	var page flow.InvoicePage
	require.NoError(t, issued.Get(&page))
	require.Len(t, page.Collect, 3)
	// Asked again, compactly, the page issues nothing more (the run counts
	// what it issued before as its own) and lists the same invoices in Refs.
	again, err := billing.ExecuteActivity(groups.Billing.InvoiceDuePeriods, flow.InvoicePageInput{TenantID: env.A.ID, AsOf: asOf, Limit: 10, CompactRefs: true})
	require.NoError(t, err)
	var compact flow.InvoicePage
	require.NoError(t, again.Get(&compact))
	var invoices int
	require.NoError(t, env.Store.DB().Get(&invoices, `SELECT count(*) FROM invoices WHERE tenant_id = $1`, env.A.ID))
	assert.Equal(t, 3, invoices)
	assert.Empty(t, compact.Collect)
	assert.Equal(t, flow.InvoiceRefs(page.Collect), compact.Refs)
	batch := flow.CollectInvoicesInput{TenantID: env.A.ID, Invoices: page.Collect}

	// The first try charges; Postgres then refuses its record, as a worker
	// killed at that moment would leave it.
	db := env.Store.DB()
	db.MustExec(`CREATE FUNCTION refuse_attempts() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'worker gone'; END $$`)
	db.MustExec(`CREATE TRIGGER refuse_attempts BEFORE INSERT ON invoice_payment_attempts FOR EACH ROW EXECUTE FUNCTION refuse_attempts()`)
	first := suite.NewTestActivityEnvironment()
	first.RegisterActivity(groups.Collections)
	var details converter.EncodedValues
	first.SetOnActivityHeartbeatListener(func(_ *activity.Info, d converter.EncodedValues) { details = d })
	_, err = first.ExecuteActivity(groups.Collections.CollectInvoices, batch)
	require.ErrorContains(t, err, "worker gone")
	db.MustExec(`DROP TRIGGER refuse_attempts ON invoice_payment_attempts`)
	captures := func() (n int) {
		require.NoError(t, db.Get(&n, `SELECT count(*) FROM sandbox_ledger WHERE operation = 'CAPTURE'`))
		return n
	}
	require.Equal(t, 3, captures(), "the first try took the money")
	require.NotNil(t, details, "the first try told Temporal what it was about to charge")

	// Meanwhile the contract's payment schedule is cancelled.
	cancel := env.Do("POST", "/api/v3/client/"+env.A.Prefix+"/contract/"+ct["id"].(string)+"/cancelSchedule", env.A.SubmitterKey, nil)
	require.Equal(t, http.StatusOK, cancel.Status, cancel.Body)

	var plans map[string]flow.CollectionPlan
	require.NoError(t, details.Get(&plans))
	retry := suite.NewTestActivityEnvironment()
	retry.RegisterActivity(groups.Collections)
	retry.SetHeartbeatDetails(plans)
	done, err := retry.ExecuteActivity(groups.Collections.CollectInvoices, batch)
	require.NoError(t, err)
	var out flow.CollectedInvoices
	require.NoError(t, done.Get(&out))
	assert.Equal(t, []domain.CollectionOutcome{domain.CollectionSucceeded, domain.CollectionSucceeded, domain.CollectionSucceeded}, out.Outcomes)
	assert.Equal(t, 3, captures(), "the retry found the first try's captures and took nothing more")
	var unpaid int
	require.NoError(t, db.Get(&unpaid, `SELECT count(*) FROM invoices WHERE status <> 'PAID'`))
	assert.Zero(t, unpaid, "every invoice whose money was taken is paid")
}
