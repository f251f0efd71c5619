// Package invariants checks what must hold in a contractd database whatever
// ran against it: the invariants of DESIGN.md, read from Postgres and, for
// amendments, from their Temporal workflows. Integration tests run it after
// each test (testkit), the fault suite after each scenario and the
// model-based test after its random run.
package invariants

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/contractd/contractd/internal/domain"
)

// Violation is one thing the database holds that must never be.
type Violation struct {
	Invariant string
	Detail    string
}

func (v Violation) String() string { return v.Invariant + ": " + v.Detail }

// check is one invariant read from Postgres: a query returning one line of
// text per violation.
type check struct {
	name  string
	query string
}

// The statuses an amendment ends in; the open ones are domain.OpenStatuses.
const terminal = `('APPLIED', 'WITHDRAWN', 'REJECTED', 'EXPIRED', 'FAILED')`

var checks = []check{
	{"one current segment per contract", `
		SELECT c.number || ': ' || count(*) FILTER (WHERE s.status NOT IN ('expired', 'superseded')) || ' current segments'
		FROM contracts c JOIN contract_segments s ON s.contract_id = c.id
		GROUP BY c.id HAVING count(*) FILTER (WHERE s.status NOT IN ('expired', 'superseded')) <> 1`},
	{"linear segment chain", `
		SELECT c.number || ': segment ' || s.id || ' at position ' || s.position || ' follows '
			|| coalesce(p.id || ' at position ' || p.position || ' of ' || pc.number, 'nothing')
		FROM contract_segments s JOIN contracts c ON c.id = s.contract_id
		LEFT JOIN contract_segments p ON p.id = s.previous_segment_id
		LEFT JOIN contracts pc ON pc.id = p.contract_id
		WHERE (s.position = 1) <> (p.id IS NULL) OR p.contract_id <> s.contract_id OR p.position <> s.position - 1
			OR (s.status NOT IN ('expired', 'superseded')) <> NOT EXISTS (SELECT 1 FROM contract_segments n WHERE n.previous_segment_id = s.id)`},
	{"version = segments", `
		SELECT c.number || ': version ' || c.version || ', ' || count(s.id) || ' segments'
		FROM contracts c LEFT JOIN contract_segments s ON s.contract_id = c.id
		GROUP BY c.id HAVING count(s.id) <> c.version`},
	// Every change of a schedule's status writes its event under the
	// contract's lock (store.recordScheduleEvent), the first at its creation.
	{"schedule history without gaps, ending in the schedule's status", `
		SELECT number || ': ' || events || ' schedule events, the newest at position ' || coalesce(last::text, 'none')
			|| ' ' || coalesce(newest, '') || ', the schedule ' || schedule_status
		FROM (SELECT c.number, c.schedule_status, count(e.id) AS events, max(e.position) AS last,
				(array_agg(e.status ORDER BY e.position DESC))[1] AS newest
			FROM contracts c LEFT JOIN schedule_events e ON e.contract_id = c.id GROUP BY c.id) h
		WHERE events = 0 OR last <> events OR newest <> schedule_status`},
	{"versions applied without gaps", `
		SELECT c.number || ' version ' || c.version || ', applied on ' || coalesce(string_agg(a.base_version::text, ',' ORDER BY a.base_version), 'nothing')
		FROM contracts c LEFT JOIN amendments a ON a.contract_id = c.id AND a.status = 'APPLIED'
		GROUP BY c.id
		HAVING c.version <> 1 + count(a.id) OR count(DISTINCT a.base_version) <> count(a.id)
			OR (count(a.id) > 0 AND (min(a.base_version) <> 1 OR max(a.base_version) <> count(a.id)))`},
	// A change names the line it changes by its offering, so a second line
	// of one would be billed but never changed (domain.addedTwice).
	{"one line per offering", `
		SELECT c.number || ': offering ' || (l ->> 'offeringId') || ' on ' || count(*) || ' lines'
		FROM contracts c CROSS JOIN LATERAL jsonb_array_elements(c.lines) l
		GROUP BY c.id, c.number, l ->> 'offeringId' HAVING count(*) > 1`},
	// Billing charges every line's price once per the contract's period, so
	// a line on a rate of another period would be billed wrong
	// (domain.otherPeriod). The catalog keeps the rates of active
	// contracts' lines and their periods (domain.CheckKeeps): for those
	// contracts, the tenant's catalog tells each line's period.
	{"every line bills its contract's period", `
		SELECT c.number || ': offering ' || (l ->> 'offeringId') || ' at rate ' || (l ->> 'rateId')
			|| ' bills ' || (r ->> 'billingPeriod') || ', the contract ' || c.billing_period
		FROM contracts c JOIN catalogs k ON k.tenant_id = c.tenant_id
		CROSS JOIN LATERAL jsonb_array_elements(c.lines) l
		CROSS JOIN LATERAL jsonb_array_elements(k.document -> 'offerings') o
		CROSS JOIN LATERAL jsonb_array_elements(o -> 'rates') r
		WHERE c.status = 'active' AND o ->> 'id' = l ->> 'offeringId' AND r ->> 'id' = l ->> 'rateId'
			AND r ->> 'billingPeriod' <> c.billing_period`},
	// The contract timeline (internal/store/timeline.go): a contract holds
	// many open amendments, in one order, and never two cancellations.
	{"one open cancellation per contract", `
		SELECT c.number || ': ' || string_agg(a.id || ' ' || a.status, ', ')
		FROM amendments a JOIN contracts c ON c.id = a.contract_id
		WHERE a.action = 'CANCELLATION' AND a.status IN ('PENDING', 'REVIEW', 'SCHEDULED')
		GROUP BY c.id HAVING count(*) > 1`},
	{"accepted amendments in one order", `
		SELECT a.id || ' ' || a.status || ' at place ' || coalesce(a.timeline_seq::text, 'none')
			|| coalesce(' of ' || c.timeline_seq, '')
		FROM amendments a JOIN contracts c ON c.id = a.contract_id
		WHERE (a.status IN ('PENDING', 'SCHEDULED') AND a.timeline_seq IS NULL)
			OR (a.status = 'REVIEW' AND a.timeline_seq IS NOT NULL)
			OR a.timeline_seq > c.timeline_seq
			OR EXISTS (SELECT 1 FROM amendments o WHERE o.contract_id = a.contract_id AND o.timeline_seq = a.timeline_seq AND o.id <> a.id)`},
	// A change at or after a cancellation's place would apply to a contract
	// that no longer runs: it is refused, or fails when the cancellation is
	// accepted.
	{"nothing open after a scheduled cancellation", `
		SELECT a.id || ' ' || a.status || ' on ' || a.effective_date || ' follows cancellation ' || x.id || ' on ' || x.effective_date
		FROM amendments x JOIN amendments a ON a.contract_id = x.contract_id AND a.id <> x.id
		WHERE x.action = 'CANCELLATION' AND x.status IN ('PENDING', 'SCHEDULED')
			AND a.status IN ('PENDING', 'REVIEW', 'SCHEDULED')
			AND (a.effective_date > x.effective_date
				OR (a.effective_date = x.effective_date AND (a.timeline_seq IS NULL OR a.timeline_seq > x.timeline_seq)))`},
	// Contract terms (internal/store/terms.go): a term's end expires the
	// contract with nothing left open, and renews it once.
	{"nothing open on an expired contract", `
		SELECT c.number || ': ' || a.id || ' ' || a.status
		FROM contracts c JOIN amendments a ON a.contract_id = c.id
		WHERE c.status = 'expired' AND a.status IN ('PENDING', 'REVIEW', 'SCHEDULED')`},
	{"each applied renewal starts the term the contract is in or one before it", `
		SELECT c.number || ': renewal ' || a.id || ' to ' || (a.quote -> 'renewal' ->> 'termEnd') || ', contract ends ' || c.expiration_date
		FROM contracts c JOIN amendments a ON a.contract_id = c.id
		WHERE a.action = 'RENEWAL' AND a.status = 'APPLIED'
			AND ((a.quote -> 'renewal' ->> 'termEnd')::date > c.expiration_date OR (a.quote -> 'renewal' ->> 'termStart')::date > c.term_start)`},
	// Test clocks (internal/store/test_clocks.go): deleting a clock ends
	// its contracts and everything pending on them.
	{"nothing active on a deleted test clock", `
		SELECT c.number || ': ' || c.status
		FROM contracts c JOIN test_clocks t ON t.id = c.test_clock_id
		WHERE t.status = 'deleted' AND (c.status = 'active'
			OR EXISTS (SELECT 1 FROM amendments a WHERE a.contract_id = c.id AND a.status IN ('PENDING', 'REVIEW', 'SCHEDULED')))`},
	// A tenant's advances under way share the work one advance may carry
	// out (internal/store/test_clock_budget.go): their holds come to it at
	// most, or one holds work alone (its first day, free when it started
	// with none other under way).
	{"a tenant's advances under way within the work one may carry out", `
		SELECT w.tenant_id || ': ' || sum(w.work) || ' held by ' || count(*) || ' advances'
		FROM clock_advance_work w JOIN test_clocks t ON t.id = w.clock_id AND t.status = 'advancing'
		WHERE w.work > 0
		GROUP BY w.tenant_id HAVING sum(w.work) > ` + strconv.Itoa(domain.MaxClockAdvanceWork) + ` AND count(*) > 1`},
	{"each re-pricing recorded", `
		SELECT a.id || ': quote version ' || a.quote_version || ', ' || count(e.id) || ' REPRICED events'
		FROM amendments a LEFT JOIN amendment_events e ON e.amendment_id = a.id AND e.status = 'REPRICED'
		GROUP BY a.id HAVING a.quote_version <> 1 + count(e.id)`},
	{"amendment in exactly one state", `
		SELECT a.id || ' ' || a.status || ' terminal events: ' || coalesce(string_agg(e.status, ','), 'none')
		FROM amendments a
		LEFT JOIN amendment_events e ON e.amendment_id = a.id AND e.status IN ` + terminal + `
		GROUP BY a.id, a.status
		HAVING a.status NOT IN ('PENDING', 'REVIEW', 'SCHEDULED') AND a.status NOT IN ` + terminal + `
			OR (a.status IN ` + terminal + ` AND (count(e.id) <> 1 OR min(e.status) <> a.status))
			OR (a.status NOT IN ` + terminal + ` AND count(e.id) > 0)`},
	{"one idempotency key, one amendment", `
		SELECT tenant_id || ' ' || idempotency_key || ': ' || count(*) || ' amendments'
		FROM amendments WHERE idempotency_key IS NOT NULL
		GROUP BY tenant_id, idempotency_key HAVING count(*) > 1`},
	{"invoice equals its quote", `
		SELECT a.id || ' ' || a.status || ': quoted ' || coalesce(a.quote -> 'invoicePreview' ->> 'total', 'no invoice')
			|| ', invoiced ' || coalesce(string_agg(i.total::text, ','), 'nothing')
		FROM amendments a LEFT JOIN invoices i ON i.amendment_id = a.id
		GROUP BY a.id
		HAVING (a.status = 'APPLIED' AND jsonb_typeof(a.quote -> 'invoicePreview') = 'object') <> (count(i.id) = 1)
			OR count(i.id) > 1
			OR (count(i.id) = 1 AND (min(i.total) <> (a.quote -> 'invoicePreview' ->> 'total')::bigint
				OR bool_or(i.lines <> a.quote -> 'invoicePreview' -> 'lines')))`},
	{"invoice total is the sum of its lines", `
		SELECT i.id || ' ' || i.kind || ': total ' || i.total || ', lines ' || coalesce(sum((l ->> 'amount')::numeric), 0)
		FROM invoices i LEFT JOIN LATERAL jsonb_array_elements(i.lines) l ON true
		GROUP BY i.id HAVING i.total <> coalesce(sum((l ->> 'amount')::numeric), 0)`},
	{"authorisation settled exactly once", `
		SELECT a.id || ' (' || a.amount || ' ' || a.currency || ', approved ' || a.approved || '): '
			|| coalesce(string_agg(s.operation || ' ' || s.amount, ', '), 'unsettled')
		FROM sandbox_ledger a LEFT JOIN sandbox_ledger s ON s.parent_id = a.id AND s.operation IN ('CAPTURE', 'VOID')
		WHERE a.operation = 'AUTHORISE'
		GROUP BY a.id
		HAVING count(s.id) <> CASE WHEN a.approved THEN 1 ELSE 0 END
			OR bool_or(s.operation = 'CAPTURE' AND s.amount > a.amount)`},
	{"refund within its capture", `
		SELECT c.id || ': captured ' || c.amount || ', refunded ' || sum(r.amount)
		FROM sandbox_ledger c JOIN sandbox_ledger r ON r.parent_id = c.id AND r.operation = 'REFUND' AND r.approved
		WHERE c.operation = 'CAPTURE'
		GROUP BY c.id HAVING sum(r.amount) > c.amount`},
	// Proration over one period never credits more than that period's
	// charge at the terms it started with: whatever changes come in between,
	// day-based proration nets at least -recurringBefore x (days left)/(days)
	// for the period's first change. Rounding is half-up per line, so each
	// invoice line may add one minor unit.
	{"credit within what was charged", `
		WITH changes AS (
			SELECT i.contract_id, i.period_start, i.total, jsonb_array_length(i.lines) AS lines,
				(a.quote ->> 'recurringBefore')::bigint AS before,
				(SELECT e.id FROM amendment_events e WHERE e.amendment_id = a.id AND e.status = 'APPLIED') AS applied_seq
			FROM invoices i JOIN amendments a ON a.id = i.amendment_id
		)
		SELECT c.number || ' period from ' || x.period_start || ': net ' || sum(x.total) || ', first charged ' || x.first_before
		FROM (SELECT *, first_value(before) OVER (PARTITION BY contract_id, period_start ORDER BY applied_seq) AS first_before
			FROM changes) x
		JOIN contracts c ON c.id = x.contract_id
		GROUP BY c.number, x.contract_id, x.period_start, x.first_before
		HAVING -sum(x.total) > x.first_before + sum(x.lines)`},
	// The settlement ledger (internal/store/settlement.go, collections.go):
	// money is collected and credited exactly once, whatever moved credit
	// between a contract's invoices.
	{"invoice settled by what paid it", `
		SELECT i.id || ' ' || i.kind || ': total ' || i.total || ', paid ' || p.paid || ', credited ' || a.credited || ', due ' || i.amount_due
		FROM invoices i,
			LATERAL (SELECT coalesce(sum(amount), 0) AS paid FROM invoice_payment_attempts
				WHERE invoice_id = i.id AND outcome = 'COLLECTED') p,
			LATERAL (SELECT coalesce(sum(amount), 0) AS credited FROM credit_note_applications WHERE invoice_id = i.id) a
		WHERE i.total >= 0 AND i.total <> p.paid + a.credited + i.amount_due`},
	{"credit note spent as applied", `
		SELECT n.id || ': amount ' || n.amount || ', remaining ' || n.remaining || ', applied ' || coalesce(sum(a.amount), 0)
		FROM credit_notes n LEFT JOIN credit_note_applications a ON a.credit_note_id = n.id
		GROUP BY n.id HAVING coalesce(sum(a.amount), 0) <> n.amount - n.remaining OR n.remaining < 0 OR n.remaining > n.amount`},
	// A schedule is in arrears while what its dunning ran out on is unpaid:
	// paid off (a resumed attempt, credit), it is not.
	{"in arrears only while owing", `
		SELECT c.number || ': in arrears, nothing unpaid'
		FROM contracts c
		WHERE c.schedule_in_arrears AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.contract_id = c.id AND i.status = 'UNPAID')`},
	{"each credit one credit note", `
		SELECT i.id || ': credit ' || i.total || ', notes ' || coalesce(string_agg(n.amount::text, ','), 'none')
		FROM invoices i LEFT JOIN credit_notes n ON n.invoice_id = i.id
		WHERE i.total < 0
		GROUP BY i.id HAVING count(n.id) <> 1 OR min(n.amount) <> -i.total`},
}

// Names lists every invariant Check checks, in order.
func Names() []string {
	out := make([]string, 0, len(checks)+1)
	for _, c := range checks {
		out = append(out, c.name)
	}
	return append(out, workflowAgrees)
}

const workflowAgrees = "amendment's workflow agrees"

// Check reads every invariant and returns what breaks them. With a Temporal
// client it also asks each amendment's workflow whether it agrees: an open
// amendment's workflow is running and a settled one's has ended. A workflow
// finishing its last step is given until settle has passed to catch up, and
// is asked first: an upgrade's capture follows its amendment's APPLIED, so
// the database is read once the workflows have done what they will.
func Check(ctx context.Context, db *sqlx.DB, workflows client.Client, settle time.Duration) ([]Violation, error) {
	var out []Violation
	if workflows != nil {
		disagree, err := workflowsDisagreeing(ctx, db, workflows, settle)
		if err != nil {
			return nil, err
		}
		out = disagree
	}
	for _, c := range checks {
		var details []string
		if err := db.SelectContext(ctx, &details, c.query); err != nil {
			return nil, fmt.Errorf("check %q: %w", c.name, err)
		}
		for _, d := range details {
			out = append(out, Violation{Invariant: c.name, Detail: d})
		}
	}
	return out, nil
}

type amendmentState struct {
	ID         string `db:"id"`
	Status     string `db:"status"`
	WorkflowID string `db:"workflow_id"`
	Open       bool   `db:"open"`
}

const amendmentStates = `SELECT id, status, workflow_id, status NOT IN ` + terminal + ` AS open FROM amendments`

func workflowsDisagreeing(ctx context.Context, db *sqlx.DB, workflows client.Client, settle time.Duration) ([]Violation, error) {
	deadline := time.Now().Add(settle)
	var pending []amendmentState
	if err := db.SelectContext(ctx, &pending, amendmentStates+` ORDER BY id`); err != nil {
		return nil, fmt.Errorf("list amendments: %w", err)
	}
	for {
		var out []Violation
		var again []amendmentState
		for _, am := range pending {
			running, err := workflowRunning(ctx, workflows, am.WorkflowID)
			if err != nil {
				out = append(out, Violation{workflowAgrees, fmt.Sprintf("%s %s: %v", am.ID, am.Status, err)})
				continue
			}
			if running == am.Open {
				continue
			}
			// Postgres may have moved on while the workflow was asked.
			if err := db.GetContext(ctx, &am, amendmentStates+` WHERE id = $1`, am.ID); err != nil {
				return nil, fmt.Errorf("reload amendment %s: %w", am.ID, err)
			}
			again = append(again, am)
			state := "has ended"
			if running {
				state = "is running"
			}
			out = append(out, Violation{workflowAgrees, fmt.Sprintf("%s is %s but its workflow %s", am.ID, am.Status, state)})
		}
		if len(again) == 0 || time.Now().After(deadline) {
			return out, nil
		}
		pending = again
		time.Sleep(200 * time.Millisecond)
	}
}

func workflowRunning(ctx context.Context, workflows client.Client, id string) (bool, error) {
	desc, err := workflows.DescribeWorkflowExecution(ctx, id, "")
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return false, errors.New("no workflow " + id)
	}
	if err != nil {
		return false, fmt.Errorf("describe workflow %s: %w", id, err)
	}
	return desc.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, nil
}

// Require fails t with every violation Check finds, but for those of the
// invariants a test says it breaks on purpose (expected, by name).
func Require(t testing.TB, db *sqlx.DB, workflows client.Client, settle time.Duration, expected ...string) {
	t.Helper()
	violations, err := Check(context.Background(), db, workflows, settle)
	require.NoError(t, err)
	var lines []string
	for _, v := range violations {
		if !slices.Contains(expected, v.Invariant) {
			lines = append(lines, v.String())
		}
	}
	require.Empty(t, lines, "invariants broken:\n%s", strings.Join(lines, "\n"))
}
