package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/contractd/contractd/internal/domain"
)

// ContractAction is a stored contract-actions request and what it created.
// Its JSON tags are its stored form (contract_actions.response, read back
// by a repeated request) and the contract action workflow's result already
// in histories, so they stay; the API answers with its own view.
type ContractAction struct {
	ID             string            `json:"id"`
	Number         string            `json:"number"`
	ActionType     string            `json:"actionType"`
	AccountID      string            `json:"accountId"`
	AccountNumber  string            `json:"accountNumber"`
	Contracts      []domain.Contract `json:"contracts"`
	TraceID        string            `json:"traceId,omitempty"`
	CreatedOn      time.Time         `json:"createdOn"`
	CreatedBy      string            `json:"createdBy"`
	IdempotencyKey string            `json:"-"`
	RequestHash    string            `json:"requestHash,omitempty"`
}

// maxActionResponse bounds an action's answer as stored, which is also its
// workflow's result and its first step's: Temporal refuses a payload over
// 2 MiB (its default limit), and a workflow whose result it refuses cannot
// end but retries for ever, its contracts committed. A quarter of the limit
// is left for the payload's framing. The API bounds how many contracts a
// request asks for (500); this refuses, whole, the few that are each large
// (on an offering with many products).
const maxActionResponse = 3 << 19 // 1.5 MiB

// NewContractAction is what a contract action writes.
type NewContractAction struct {
	ID             string
	TenantID       string
	ActorID        string
	Source         string
	TraceID        string
	IdempotencyKey string
	RequestHash    string
	AccountNumber  string
	ActionType     string
	// Plan plans the contracts on the tenant's catalog (shared: see
	// catalogCache), as the transaction that creates them reads it, holding
	// the catalog's advisory lock shared (see catalog_lock.go).
	Plan func(*domain.Catalog) ([]domain.ContractPlan, error)
	// TestClockID puts the contracts on the tenant's test clock: they are
	// created at its time and live on it.
	TestClockID *string
}

// CreateContracts writes the account (if new, and its number visible text:
// upsertAccount), one contract with its first segment and payment schedule
// per plan (in.Plan's, on the catalog), and the action record, in one
// transaction. Running it again with the same action id returns the first
// result and writes nothing. An action over maxActionResponse is refused
// (KindInvalid) and writes nothing either.
func (s *Store) CreateContracts(ctx context.Context, in NewContractAction, now time.Time) (ContractAction, error) {
	var out ContractAction
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		// The catalog's advisory lock is taken before any other, with the
		// look-up, and the catalog read after it (see catalog_lock.go).
		var stored []byte
		err := tx.QueryRowxContext(ctx, `SELECT (SELECT response FROM contract_actions WHERE id = $2) WHERE `+sharingCatalogAdvisory,
			in.TenantID, in.ID).Scan(&stored)
		if err != nil {
			return fmt.Errorf("look up contract action: %w", err)
		}
		if stored != nil {
			return json.Unmarshal(stored, &out)
		}
		cat, err := s.catalogs.load(ctx, tx, in.TenantID)
		if err != nil {
			return err
		}
		plans, err := in.Plan(&cat)
		if err != nil {
			return err
		}
		if in.TestClockID != nil {
			if now, err = clockForNewContracts(ctx, tx, in.TenantID, *in.TestClockID, len(plans)); err != nil {
				return err
			}
		}
		if err := lockNamedTerminations(ctx, tx, in.TenantID, plans); err != nil {
			return err
		}
		accountID, err := upsertAccount(ctx, tx, in.TenantID, in.AccountNumber, now)
		if err != nil {
			return err
		}
		n, err := nextNumber(ctx, tx, in.TenantID, "CA")
		if err != nil {
			return err
		}
		out = ContractAction{
			ID: in.ID, Number: domain.FormatNumber("CA", n), ActionType: in.ActionType,
			AccountID: accountID, AccountNumber: in.AccountNumber, TraceID: in.TraceID,
			CreatedOn: now, CreatedBy: in.ActorID, RequestHash: in.RequestHash,
		}
		// The action row goes first (contracts reference it) and gets its
		// response once the contracts exist.
		var idemKey *string
		if in.IdempotencyKey != "" {
			idemKey = &in.IdempotencyKey
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO contract_actions (id, tenant_id, number, account_id, action_type, idempotency_key, request_hash, response, trace_id, source, created_at, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, '{}', $8, $9, $10, $11)`,
			in.ID, in.TenantID, out.Number, accountID, in.ActionType, idemKey, in.RequestHash, in.TraceID, in.Source, now, in.ActorID); err != nil {
			return fmt.Errorf("insert contract action: %w", err)
		}
		for _, p := range plans {
			c, err := insertContract(ctx, tx, in, accountID, p, now)
			if err != nil {
				return err
			}
			out.Contracts = append(out.Contracts, c)
		}
		if in.TestClockID != nil {
			// On a clock that is advancing, they live through the rest of
			// its advance.
			if err := refuseOverAdvance(ctx, tx, in.TenantID, asStored(*in.TestClockID), domain.KindUnprocessable, "testClockId", "these contracts"); err != nil {
				return err
			}
		}
		if err := storeActionResponse(ctx, tx, out); err != nil {
			return err
		}
		return insertContractsCreated(ctx, tx, in.TenantID, out.Contracts, now)
	})
	return out, err
}

// storeActionResponse stores the action's answer, the contracts it
// created, with its record; an answer over maxActionResponse is refused.
func storeActionResponse(ctx context.Context, tx *sqlx.Tx, out ContractAction) error {
	resp, err := json.Marshal(out)
	if err != nil {
		return fmt.Errorf("encode contract action: %w", err)
	}
	if len(resp) > maxActionResponse {
		return domain.Errorf(domain.KindInvalid, "actions",
			"the %d contracts asked for are %d bytes as created, more than one request may create (%d): send them in smaller requests",
			len(out.Contracts), len(resp), maxActionResponse)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE contract_actions SET response = $2 WHERE id = $1`, out.ID, resp); err != nil {
		return fmt.Errorf("store contract action response: %w", err)
	}
	return nil
}

// lockNamedTerminations takes, in ascending id order, the share lock that
// each contract's foreign key takes on the termination it names, so that
// the contracts' inserts, in the request's order, wait for nothing more. A
// termination write touching several takes them in the same order
// (TerminationWriter.LockInOrder); in the request's order, the two could
// each hold one the other waits for. They are taken before the tenant's
// counters, even when there is one: an action holding a counter while it
// waited for a termination a PATCH holds would close a cycle with another
// action holding the termination that PATCH waits for and waiting for the
// counter. A termination deleted meanwhile is not locked, and the
// contract's insert reports it.
func lockNamedTerminations(ctx context.Context, tx *sqlx.Tx, tenantID string, plans []domain.ContractPlan) error {
	var ids pq.Int64Array
	for _, p := range plans {
		if p.ContractTerminationID != nil {
			ids = append(ids, *p.ContractTerminationID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT 1 FROM contract_terminations WHERE tenant_id = $1 AND id = ANY($2) ORDER BY id FOR KEY SHARE`,
		tenantID, ids); err != nil {
		return fmt.Errorf("lock contract terminations: %w", err)
	}
	return nil
}

// ContractActionByIdempotencyKey finds an earlier action sent with the same key.
func (s *Store) ContractActionByIdempotencyKey(ctx context.Context, tenantID, key string) (ContractAction, error) {
	var row struct {
		Response    []byte `db:"response"`
		RequestHash string `db:"request_hash"`
	}
	err := s.db.GetContext(ctx, &row, `SELECT response, request_hash FROM contract_actions WHERE tenant_id = $1 AND idempotency_key = $2`, tenantID, key)
	if errors.Is(err, sql.ErrNoRows) {
		return ContractAction{}, ErrNotFound
	}
	if err != nil {
		return ContractAction{}, fmt.Errorf("look up idempotency key: %w", err)
	}
	var out ContractAction
	if err := json.Unmarshal(row.Response, &out); err != nil {
		return out, fmt.Errorf("decode contract action: %w", err)
	}
	out.RequestHash = row.RequestHash
	return out, nil
}

// upsertAccount returns the id of the tenant's account number, creating it
// if it is new. A new account's number must be visible text
// (domain.CheckIdentifier; a KindInvalid error naming accountNumber
// otherwise); an existing one is taken as it is.
func upsertAccount(ctx context.Context, tx *sqlx.Tx, tenantID, number string, now time.Time) (string, error) {
	var id string
	err := tx.GetContext(ctx, &id, `SELECT id FROM accounts WHERE tenant_id = $1 AND number = $2`, tenantID, number)
	switch {
	case err == nil:
		// An existing account is taken as it is, even one whose number
		// was stored before domain.CheckIdentifier held.
		return id, nil
	case !errors.Is(err, sql.ErrNoRows):
		return "", fmt.Errorf("look up account: %w", err)
	}
	if err := domain.CheckIdentifier(number); err != nil {
		return "", domain.Errorf(domain.KindInvalid, "accountNumber", "accountNumber %q, a new account's, %v", number, err)
	}
	err = tx.QueryRowxContext(ctx, `
		INSERT INTO accounts (id, tenant_id, number, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (tenant_id, number) DO UPDATE SET number = EXCLUDED.number
		RETURNING id`, uuid.NewString(), tenantID, number, now).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("upsert account: %w", err)
	}
	return id, nil
}

func insertContract(ctx context.Context, tx *sqlx.Tx, in NewContractAction, accountID string, p domain.ContractPlan, now time.Time) (domain.Contract, error) {
	n, err := nextNumber(ctx, tx, in.TenantID, "CT")
	if err != nil {
		return domain.Contract{}, err
	}
	lines := []domain.Line{p.Line}
	linesJSON, err := json.Marshal(lines)
	if err != nil {
		return domain.Contract{}, fmt.Errorf("encode lines: %w", err)
	}
	var card *string
	if p.ViewingCardNumber != "" {
		card = &p.ViewingCardNumber
	}
	c := domain.Contract{
		ID: uuid.NewString(), Number: domain.FormatNumber("CT", n), AccountNumber: in.AccountNumber, CustomerID: accountID,
		Status: domain.ContractActive, EffectiveDate: p.EffectiveDate, ExpirationDate: p.ExpirationDate,
		Currency: p.Currency, BillingPeriod: p.BillingPeriod, BillingCycleDay: p.BillingCycleDay,
		PaymentMethod: p.PaymentMethod, ViewingCardNumber: card, Protected: p.Protected,
		ContractTerminationID: p.ContractTerminationID, Lines: lines, RecurringAmount: domain.DisplayedRecurringTotal(lines),
		Renewal: p.Renewal, TermStart: p.EffectiveDate, Version: 1, CreatedOn: now, UpdatedOn: now, CreatedBy: in.ActorID, UpdatedBy: in.ActorID,
		TestClockID: in.TestClockID,
	}
	err = tx.QueryRowxContext(ctx, `
		INSERT INTO contracts (id, tenant_id, account_id, contract_action_id, number, status, effective_date, expiration_date,
			currency, billing_period, billing_cycle_day, payment_method, viewing_card_number, protected, contract_termination_id,
			lines, schedule_status, version, created_at, updated_at, created_by, updated_by,
			renewal_mode, renewal_term_months, renewal_uplift_bp, renewal_notice_days, test_clock_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19, $20, $20, $21, $22, $23, $24, $25)
		RETURNING ref`,
		c.ID, in.TenantID, accountID, in.ID, c.Number, c.Status, c.EffectiveDate, c.ExpirationDate,
		c.Currency, c.BillingPeriod, c.BillingCycleDay, c.PaymentMethod, card, c.Protected, c.ContractTerminationID,
		linesJSON, domain.ScheduleActive, c.Version, now, in.ActorID,
		c.Renewal.Mode, c.Renewal.TermMonths, c.Renewal.UpliftBasisPoints, c.Renewal.NoticeDays, in.TestClockID).Scan(&c.Ref)
	if isUniqueViolation(err, "contracts_active_viewing_card") {
		return c, domain.Errorf(domain.KindInvalid, "viewingCardNumber", "viewing card %q is already on another active contract", p.ViewingCardNumber)
	}
	if isForeignKeyViolation(err, "contracts_contract_termination_fk") {
		// Deleted since the API checked it (migration 0014).
		return c, domain.Errorf(domain.KindInvalid, "contractTerminationId", "contractTerminationId %d is not a contract termination of this tenant", *p.ContractTerminationID)
	}
	if err != nil {
		return c, fmt.Errorf("insert contract: %w", err)
	}
	seg := domain.Segment{
		AccountNumber: c.AccountNumber, ContractNumber: c.Number, EffectiveDate: c.EffectiveDate, ExpirationDate: c.ExpirationDate,
		Currency: []string{c.Currency}, PlanID: p.PlanID, BillingCycleDay: c.BillingCycleDay,
		BillingCycleType: domain.BillingCycleType(c.BillingPeriod), Status: domain.ContractActive, Lines: lines,
		ID: uuid.NewString(), CreatedOn: now, UpdatedOn: now, CreatedBy: in.ActorID, UpdatedBy: in.ActorID,
	}
	if err := insertSegment(ctx, tx, in.TenantID, c.ID, seg, "", nil); err != nil {
		return c, err
	}
	c.Segments, c.SegmentCount = []domain.Segment{seg}, 1
	ev := domain.ScheduleEvent{Status: domain.ScheduleActive, ActorID: in.ActorID, Source: in.Source, At: now}
	if err := recordScheduleEvent(ctx, tx, in.TenantID, c.ID, ev, nil); err != nil {
		return c, err
	}
	c.PaymentSchedule = domain.PaymentSchedule{Status: domain.ScheduleActive, History: []domain.ScheduleEvent{ev}, HistoryCount: 1}
	return c, nil
}

// insertSegment writes seg as its contract's newest segment. A segment that
// supersedes another (seg.PreviousContractSegmentID) closes it with status
// closeAs, ending where seg starts; a contract's first has none to close.
// With terms, the same statement writes them to the contract (see
// amendedTerms).
func insertSegment(ctx context.Context, tx *sqlx.Tx, tenantID, contractID string, seg domain.Segment, closeAs string, terms *amendedTerms) error {
	if seg.PreviousContractSegmentID != nil && closeAs == "" {
		return fmt.Errorf("insert contract segment %s: no status to close its predecessor with", seg.ID)
	}
	linesJSON, err := json.Marshal(seg.Lines)
	if err != nil {
		return fmt.Errorf("encode segment lines: %w", err)
	}
	query, args := "WITH "+segmentClose+segmentRow, []any{seg.ID, tenantID, contractID, seg.PreviousContractSegmentID, seg.EffectiveDate,
		seg.ExpirationDate, seg.Currency[0], seg.PlanID, seg.BillingCycleDay, seg.BillingCycleType, seg.Status, linesJSON,
		seg.CreatedOn, seg.UpdatedOn, seg.CreatedBy, seg.UpdatedBy, closeAs}
	if terms != nil {
		query = contractAmendment + segmentClose + segmentRow
		args = append(args, terms.Lines, terms.Status, terms.BillingPeriod, terms.Crossgrade, terms.Discount)
	}
	if terms != nil && len(terms.Events) > 0 {
		events, err := eventArgs(terms.Events)
		if err != nil {
			return err
		}
		query = announcedAmendment
		args = append(args, events...)
	}
	if _, err = tx.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("insert contract segment: %w", err)
	}
	return nil
}

// segmentClose and segmentRow insert a segment ($1..$16) and close its
// predecessor ($4) with status $17. A segment's position is one past its predecessor's; the
// database holds the chain linear (migration 0009), so a second successor is
// refused. The predecessor is closed by the same statement, before the
// insert: the new row's position reads the closing UPDATE's RETURNING, so
// the predecessor has left the index of current segments (one per contract)
// when the successor enters it. That order is needed too because the
// predecessor can no longer be updated once its successor exists
// (migration 0021).
const (
	segmentClose = `closed AS (
		UPDATE contract_segments SET status = $17, expiration_date = $5, updated_at = $13, updated_by = $15
		WHERE id = $4 RETURNING position)`
	segmentRow = `
	INSERT INTO contract_segments (id, tenant_id, contract_id, previous_segment_id, effective_date, expiration_date, currency,
		plan_id, billing_cycle_day, billing_cycle_type, status, lines, created_at, updated_at, created_by, updated_by, position)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, COALESCE((SELECT position + 1 FROM closed), 1))`
)

// contractAmendment, before segmentClose, writes the amended terms
// ($18..$22) to the segment's contract and counts its version up: the
// contract and its newest segment change in one statement. The segment's
// time and editor are the contract's. A crossgrade ($21) sets the discount
// (none without a code); other changes keep it unless their quote carries
// it.
const contractAmendment = `WITH amended AS (
		UPDATE contracts SET lines = $18, status = $19, billing_period = $20, version = version + 1, updated_at = $13, updated_by = $15,
			discount = CASE WHEN $21 THEN $22 ELSE COALESCE($22, discount) END
		WHERE tenant_id = $2 AND id = $3),
	`

// announcedAmendment is contractAmendment, segmentClose and segmentRow
// with the events announcing the change ($23..$31, see eventArgs) appended
// by the same statement, a round trip fewer. Postgres may take the event
// counter before the statement's other rows, but those are the contract's
// row and segments, which the transaction holds already (lockContract's FOR
// UPDATE) or which only a holder of the contract's lock writes, so no one
// holding the counter waits for them (see appendEvents). What the
// transaction does afterwards (re-pricing the contract's other open
// amendments) it did after the separate append before, too.
var announcedAmendment = contractAmendment + segmentClose + `,
	` + eventAppend(23) + segmentRow

// amendedTerms is what an applied amendment writes to its contract with the
// segment it adds: lines, status and billing period, and the discount; and
// Events, when they are known before the write, to announce it with.
type amendedTerms struct {
	Lines         []byte
	Status        string
	BillingPeriod string
	Crossgrade    bool
	Discount      []byte
	Events        []newEvent
}
