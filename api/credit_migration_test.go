package api_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/testkit"
)

// Migration 0024 sets the credit a contract held before this release
// against what it still owed, as the service now does with each new note:
// here a downgrade's credit that (as before) waited for the next invoice
// while January stayed unpaid is applied to January, its amount due lowered
// by it, and the repair recorded.
func TestMigration0024SetsCreditHeldAgainstWhatItsContractOwes(t *testing.T) {
	env := testkit.New(t)
	id, account := unpaidJanuary(t, env)
	env.Clock.Set(day("2026-01-15"))
	applied(t, change(env, env.A.SubmitterKey, seats(id, 2)))
	db := env.Store.DB()
	// The state the release before left: the note unspent, January owed whole.
	var credit int64
	require.NoError(t, db.Get(&credit, `DELETE FROM credit_note_applications a USING credit_notes n
		WHERE n.id = a.credit_note_id AND n.contract_id = $1 RETURNING a.amount`, id))
	_, err := db.Exec(`UPDATE credit_notes SET remaining = amount WHERE contract_id = $1`, id)
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE invoices SET amount_due = total WHERE contract_id = $1 AND kind = 'RECURRING'`, id)
	require.NoError(t, err)
	assert.Equal(t, [3]int64{8000, credit, 0}, usdBalance(t, env, account), "owed whole beside the credit held")

	migration, err := os.ReadFile("../internal/store/migrations/0024_credit_against_owed.sql")
	require.NoError(t, err)
	_, err = db.Exec(string(migration))
	require.NoError(t, err)

	january := invoiceOf(t, settledInvoicesOf(t, env, id), "RECURRING", "2026-01-01")
	assert.Equal(t, "UNPAID", january.Status)
	assert.Equal(t, credit, creditsOn(january))
	assert.Equal(t, 8000-credit, january.AmountDue)
	assert.Equal(t, [3]int64{8000 - credit, 0, 0}, usdBalance(t, env, account))
	var repairs int
	require.NoError(t, db.Get(&repairs, `SELECT count(*) FROM schema_repairs WHERE migration = 24 AND subject = $1`, january.ID))
	assert.Equal(t, 1, repairs)
	requireLedgerBalances(t, env)
}

// Migration 0025 takes the arrears off a schedule that no longer owes what
// its dunning ran out on, which the release before left in arrears for good
// (here January paid by a restart's attempt; the state is set as it left
// it), and leaves them on one that still owes.
func TestMigration0025ClearsArrearsPaidOff(t *testing.T) {
	env := testkit.New(t)
	owes, _ := unpaidJanuary(t, env)
	paid, _ := januaryContract(t, env, nil)
	db := env.Store.DB()
	_, err := db.Exec(`UPDATE contracts SET schedule_in_arrears = true WHERE id = $1`, paid)
	require.NoError(t, err)

	migration, err := os.ReadFile("../internal/store/migrations/0025_arrears_while_owing.sql")
	require.NoError(t, err)
	_, err = db.Exec(string(migration))
	require.NoError(t, err)

	assert.True(t, settledInvoicesOf(t, env, owes).InArrears, "January still unpaid")
	assert.False(t, settledInvoicesOf(t, env, paid).InArrears)
	var repaired []string
	require.NoError(t, db.Select(&repaired, `SELECT subject FROM schema_repairs WHERE migration = 25`))
	var number string
	require.NoError(t, db.Get(&number, `SELECT number FROM contracts WHERE id = $1`, paid))
	assert.Equal(t, []string{number}, repaired)
}
