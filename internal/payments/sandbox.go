package payments

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Sandbox payment method tokens; the contract's paymentMethod picks one.
const (
	MethodOK          = "pm_ok"          // approves
	MethodDeclined    = "pm_declined"    // declines every authorisation
	MethodUnavailable = "pm_unavailable" // the provider never answers
	MethodFlaky       = "pm_flaky"       // each call fails flakyFailures times, then succeeds
)

// flakyFailures is how often a pm_flaky call fails per idempotency key.
const flakyFailures = 2

// Sandbox is a Provider whose behaviour follows the payment method token and
// whose ledger lives in Postgres (sandbox_ledger), so tests can check that
// every authorisation is settled exactly once.
type Sandbox struct {
	db *sqlx.DB
}

// NewSandbox builds a sandbox provider on the service's database.
func NewSandbox(db *sqlx.DB) *Sandbox { return &Sandbox{db: db} }

var _ Provider = (*Sandbox)(nil)

const (
	opAuthorise = "AUTHORISE"
	opCapture   = "CAPTURE"
	opVoid      = "VOID"
	opRefund    = "REFUND"
)

// entry is one ledger row.
type entry struct {
	ID            string  `db:"id"`
	Operation     string  `db:"operation"`
	ParentID      *string `db:"parent_id"`
	PaymentMethod string  `db:"payment_method"`
	Amount        int64   `db:"amount"`
	Currency      string  `db:"currency"`
	Approved      bool    `db:"approved"`
	DeclineReason *string `db:"decline_reason"`
}

const entryColumns = `id, operation, parent_id, payment_method, amount, currency, approved, decline_reason`

func rejected(format string, args ...any) error {
	return &Error{Code: CodeRejected, Message: fmt.Sprintf(format, args...)}
}

// Authorise approves or declines by payment method; a decline is recorded
// too, so repeating it declines again without a second entry.
func (s *Sandbox) Authorise(ctx context.Context, key string, req AuthoriseRequest) (Authorisation, error) {
	if req.Amount <= 0 {
		return Authorisation{}, rejected("the amount must be positive, not %d", req.Amount)
	}
	e := entry{Operation: opAuthorise, PaymentMethod: req.PaymentMethod, Amount: req.Amount, Currency: req.Currency, Approved: true}
	switch req.PaymentMethod {
	case MethodOK, MethodFlaky, MethodUnavailable: // the last approves if it ever answers
	case MethodDeclined:
		e.Approved, e.DeclineReason = false, ptr("insufficient funds")
	default:
		e.Approved, e.DeclineReason = false, ptr("unknown payment method")
	}
	got, err := s.record(ctx, key, e)
	if err != nil {
		return Authorisation{}, err
	}
	if !got.Approved {
		return Authorisation{}, &Error{Code: CodeDeclined, Message: "the payment was declined: " + *got.DeclineReason}
	}
	return Authorisation{ID: got.ID, Amount: got.Amount, Currency: got.Currency}, nil
}

func (s *Sandbox) Capture(ctx context.Context, key, authorisationID string, amount int64) (Capture, error) {
	got, err := s.follow(ctx, key, opCapture, authorisationID, amount)
	if err != nil {
		return Capture{}, err
	}
	return Capture{ID: got.ID, AuthorisationID: authorisationID, Amount: got.Amount}, nil
}

func (s *Sandbox) Void(ctx context.Context, key, authorisationID string) (Void, error) {
	got, err := s.follow(ctx, key, opVoid, authorisationID, 0)
	if err != nil {
		return Void{}, err
	}
	return Void{ID: got.ID, AuthorisationID: authorisationID}, nil
}

func (s *Sandbox) Refund(ctx context.Context, key, captureID string, amount int64) (Refund, error) {
	got, err := s.follow(ctx, key, opRefund, captureID, amount)
	if err != nil {
		return Refund{}, err
	}
	return Refund{ID: got.ID, CaptureID: captureID, Amount: got.Amount}, nil
}

// follow records an operation on an earlier entry (the capture or void of an
// authorisation, a void releasing all of it; the refund of a capture) under
// an idempotency key. A capture or void is first tried in one statement
// (settle); a refund, and a settlement that statement did not make, in one
// transaction: the parent is locked first, and
// only then are what earlier operations took from it and what the key
// already holds read, so concurrent settlements of one payment serialise and
// a call that waited sees what the one before it wrote (a statement that
// waits for a lock goes on reading the snapshot it started with). A key
// already used returns its entry, or a refusal when it was used for another
// request.
func (s *Sandbox) follow(ctx context.Context, key, op, parentID string, amount int64) (entry, error) {
	parsed, err := uuid.Parse(parentID)
	if err != nil {
		return entry{}, rejected("%q is not a payment id", parentID)
	}
	parentID = parsed.String() // Postgres refuses some spellings uuid.Parse takes
	if op != opRefund {
		if settled, ok, err := s.settle(ctx, key, op, parentID, amount); err != nil || ok {
			return settled, err
		}
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return entry{}, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var parent entry
	err = tx.GetContext(ctx, &parent, `SELECT `+entryColumns+` FROM sandbox_ledger WHERE id = $1 FOR UPDATE`, parentID)
	if errors.Is(err, sql.ErrNoRows) {
		return entry{}, rejected("payment %s does not exist", parentID)
	}
	if err != nil {
		return entry{}, fmt.Errorf("lock payment %s: %w", parentID, err)
	}
	if op == opVoid {
		amount = parent.Amount
	}
	e := entry{Operation: op, ParentID: &parent.ID, PaymentMethod: parent.PaymentMethod, Amount: amount, Currency: parent.Currency, Approved: true}
	var took struct {
		Used  int64   `db:"used"`
		Prior *string `db:"prior"`
	}
	if err := tx.GetContext(ctx, &took, `
		SELECT coalesce(sum(amount), 0) AS used, (SELECT id FROM sandbox_ledger WHERE idempotency_key = $2) AS prior
		FROM sandbox_ledger WHERE parent_id = $1`, parent.ID, key); err != nil {
		return entry{}, fmt.Errorf("read what payment %s settled and key %q holds: %w", parent.ID, key, err)
	}
	if took.Prior != nil {
		prior, err := byKey(ctx, tx, key)
		if err != nil {
			return entry{}, err
		}
		return prior, prior.replays(key, e)
	}
	if err := simulateOutageIn(ctx, tx, key, e.PaymentMethod); err != nil {
		return entry{}, err
	}
	if err := e.fits(parent, took.Used); err != nil {
		return entry{}, err
	}
	stored, err := insertEntry(ctx, tx, key, e)
	if err != nil {
		return entry{}, err
	}
	if err := tx.Commit(); err != nil {
		return entry{}, fmt.Errorf("commit: %w", err)
	}
	return stored, nil
}

// settle makes the first call of a capture or void that its authorisation
// takes in one statement, where follow makes five round trips: the
// settlement is inserted only if the authorisation is approved, its
// payment method simulates no outage, and a capture's amount is 1 to the
// authorised amount; and only if the authorisation is not settled yet and
// the key unused, which the ledger's unique indexes (one settlement an
// authorisation, one entry a key) hold against whatever runs beside it.
// ok is false when it inserted nothing: follow then answers, under the
// authorisation's lock, with the key's entry or why the call is refused.
// settle takes no lock on the authorisation but the key share its foreign
// key does. That is safe because follow inserts a settlement only of a
// payment method settle leaves alone (one that simulates outages): of any
// other, settle inserted nothing only because a committed entry holds the
// key or settles the authorisation, or the call does not fit it, and
// follow answers with that entry or refuses.
func (s *Sandbox) settle(ctx context.Context, key, op, parentID string, amount int64) (stored entry, ok bool, err error) {
	err = s.db.GetContext(ctx, &stored, `
		INSERT INTO sandbox_ledger (id, idempotency_key, operation, parent_id, payment_method, amount, currency, approved)
		SELECT $1, $2, $3::text, p.id, p.payment_method, CASE WHEN $3::text = $4 THEN p.amount ELSE $5::bigint END, p.currency, true
		FROM sandbox_ledger p
		WHERE p.id = $6 AND p.operation = $7 AND p.approved AND p.payment_method <> ALL ($8)
			AND ($3::text = $4 OR $5::bigint BETWEEN 1 AND p.amount)
		ON CONFLICT DO NOTHING
		RETURNING `+entryColumns,
		uuid.NewString(), key, op, opVoid, amount, parentID, opAuthorise, outageMethods)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return entry{}, false, nil
	case err != nil:
		return entry{}, false, fmt.Errorf("settle payment %s: %w", parentID, err)
	}
	return stored, true, nil
}

// record writes an operation on no parent (an authorisation) under an
// idempotency key, in one statement unless its payment method simulates an
// outage. A key already used returns its entry, or a refusal when it was
// used for another request.
func (s *Sandbox) record(ctx context.Context, key string, e entry) (entry, error) {
	if simulatesOutage(e.PaymentMethod) {
		// Only a key's first calls see the outage: a used key answers as before.
		prior, err := byKey(ctx, s.db, key)
		if err == nil {
			return prior, prior.replays(key, e)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return entry{}, err
		}
		if err := simulateOutage(ctx, s.db, key, e.PaymentMethod); err != nil {
			return entry{}, err
		}
	}
	return insertEntry(ctx, s.db, key, e)
}

// simulateOutageIn is simulateOutage inside a settlement's transaction: an
// outage commits the transaction, which holds only the outage's count, so
// that the count outlives the failed call.
func simulateOutageIn(ctx context.Context, tx *sqlx.Tx, key, method string) error {
	if !simulatesOutage(method) {
		return nil
	}
	err := simulateOutage(ctx, tx, key, method)
	if errors.Is(err, ErrUnavailable) {
		if commitErr := tx.Commit(); commitErr != nil {
			return errors.Join(err, fmt.Errorf("commit the outage: %w", commitErr))
		}
	}
	return err
}

// insertEntry inserts e under key unless the key is taken, and returns the
// entry the key holds: e, or what a concurrent first call with the same key
// stored, which must answer the same request.
func insertEntry(ctx context.Context, q sqlx.QueryerContext, key string, e entry) (entry, error) {
	var stored entry
	err := sqlx.GetContext(ctx, q, &stored, `
		INSERT INTO sandbox_ledger (id, idempotency_key, operation, parent_id, payment_method, amount, currency, approved, decline_reason)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (idempotency_key) DO NOTHING
		RETURNING `+entryColumns,
		uuid.NewString(), key, e.Operation, e.ParentID, e.PaymentMethod, e.Amount, e.Currency, e.Approved, e.DeclineReason)
	if errors.Is(err, sql.ErrNoRows) {
		stored, err = byKey(ctx, q, key)
	}
	if err != nil {
		return entry{}, fmt.Errorf("insert ledger entry: %w", err)
	}
	return stored, stored.replays(key, e)
}

// fits refuses an operation its parent cannot take: only an approved
// authorisation is captured or voided, once; only a capture is refunded, up
// to what it took.
func (e entry) fits(parent entry, used int64) error {
	switch {
	case e.Operation == opRefund && parent.Operation != opCapture:
		return rejected("payment %s is not a capture and cannot be refunded", parent.ID)
	case e.Operation != opRefund && (parent.Operation != opAuthorise || !parent.Approved):
		return rejected("payment %s is not an approved authorisation", parent.ID)
	case e.Operation != opRefund && used > 0:
		return rejected("authorisation %s is already captured or voided", parent.ID)
	case e.Amount <= 0 || e.Amount > parent.Amount-used:
		return rejected("the amount must be between 1 and %d", parent.Amount-used)
	}
	return nil
}

// replays checks that a stored entry answers the same request as e.
func (stored entry) replays(key string, e entry) error {
	same := stored.Operation == e.Operation && stored.PaymentMethod == e.PaymentMethod &&
		stored.Amount == e.Amount && stored.Currency == e.Currency &&
		(stored.ParentID == nil) == (e.ParentID == nil) && (stored.ParentID == nil || *stored.ParentID == *e.ParentID)
	if !same {
		return rejected("idempotency key %q was already used for another request", key)
	}
	return nil
}

// outageMethods are the payment methods whose calls may fail with an
// outage.
var outageMethods = pq.StringArray{MethodUnavailable, MethodFlaky}

// simulatesOutage says whether calls paying with method may fail with an
// outage.
func simulatesOutage(method string) bool {
	return slices.Contains(outageMethods, method)
}

// simulateOutage fails the calls the payment method makes fail: always for
// pm_unavailable, the first flakyFailures times per key for pm_flaky.
func simulateOutage(ctx context.Context, q sqlx.QueryerContext, key, method string) error {
	switch method {
	case MethodUnavailable:
		return ErrUnavailable
	case MethodFlaky:
		var failures int
		err := q.QueryRowxContext(ctx, `
			INSERT INTO sandbox_outages (idempotency_key, failures) VALUES ($1, 1)
			ON CONFLICT (idempotency_key) DO UPDATE SET failures = sandbox_outages.failures + 1
				WHERE sandbox_outages.failures < $2
			RETURNING failures`, key, flakyFailures).Scan(&failures)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("count sandbox outage: %w", err)
		}
		return ErrUnavailable
	}
	return nil
}

func byKey(ctx context.Context, q sqlx.QueryerContext, key string) (entry, error) {
	var e entry
	err := sqlx.GetContext(ctx, q, &e, `SELECT `+entryColumns+` FROM sandbox_ledger WHERE idempotency_key = $1`, key)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("look up idempotency key: %w", err)
	}
	return e, err
}

func ptr[T any](v T) *T { return &v }
