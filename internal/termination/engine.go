package termination

import (
	"context"
	"errors"
	"fmt"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/store"
)

// The type keys a Change names, as the seed's answers spell them.
const (
	TypeTermination = "contractTermination"
	TypeCharge      = "contractTerminationPeriodCharge"
	// TypeOfferingDefault is the link from a catalog offering to its default
	// termination, detached when the termination is deleted.
	TypeOfferingDefault = "offeringContractTermination"
)

// Change is one change a write made. A detached link is named by its two
// ends (LHSID the offering, RHSID the termination), as the seed's delete
// sample does; PatchClientID echoes the patch item that caused the change.
type Change struct {
	Identity      int64
	LHSID         string
	RHSID         int64
	Action        string
	Type          string
	PatchClientID int64
	// Instance is what was written, a domain.Termination (its service
	// named) or a domain.TerminationCharge; nil for a deletion.
	Instance any
}

// Op is one request's changes, applied inside the unit of work.
type Op func(ctx context.Context, u *unit) error

// Write applies op in one transaction, all or nothing, as by (whose At is
// the business clock's time every stored row records), and returns every
// change it made in order.
func Write(ctx context.Context, st *store.Store, by store.TerminationWrite, op Op) ([]Change, error) {
	u := &unit{}
	err := st.WriteTerminations(ctx, by, func(ctx context.Context, w *store.TerminationWriter) error {
		u.w, u.cat = w, w.Catalog()
		return op(ctx, u)
	})
	if err != nil {
		return nil, err
	}
	return u.changes, nil
}

// Create adds a termination; every field is required.
func Create(in Fields) Op {
	return func(ctx context.Context, u *unit) error { return u.create(ctx, in, 0) }
}

// Update changes termination id's fields present in in.
func Update(id int64, in Fields) Op {
	return func(ctx context.Context, u *unit) error { return u.update(ctx, id, in, 0) }
}

// Delete removes termination id with its charges, detaching it from offerings.
func Delete(id int64) Op {
	return func(ctx context.Context, u *unit) error { return u.delete(ctx, id, 0) }
}

// ApplyPatch applies a checked patch (Patch.Check) to termination pathID.
func ApplyPatch(pathID int64, p Patch) Op {
	return func(ctx context.Context, u *unit) error { return u.patch(ctx, pathID, p) }
}

// NotFound turns the store's ErrNotFound for termination id into the error a
// client sees.
func NotFound(err error, id int64) error {
	return notFoundAs(err, "contract termination %d does not exist", id)
}

func chargeNotFound(err error, terminationID, chargeID int64) error {
	return notFoundAs(err, "period charge %d of contract termination %d does not exist", chargeID, terminationID)
}

func notFoundAs(err error, format string, args ...any) error {
	if errors.Is(err, store.ErrNotFound) {
		return domain.Errorf(domain.KindNotFound, "", format, args...)
	}
	return err
}

// unit applies one request's changes through a store writer, validating
// each against the catalog the writer locked, and records them. clientID
// is the patch item's patchClientId, 0 outside a PATCH.
type unit struct {
	w       *store.TerminationWriter
	cat     *domain.Catalog
	changes []Change
}

func (u *unit) record(c Change) { u.changes = append(u.changes, c) }

func (u *unit) create(ctx context.Context, in Fields, clientID int64) error {
	if err := in.RequireAll(); err != nil {
		return err
	}
	t := in.applyTo(domain.Termination{})
	if err := t.Validate(u.cat); err != nil {
		return err
	}
	t, err := u.w.Create(ctx, t)
	if err != nil {
		return err
	}
	u.record(Change{Identity: t.ID, Action: "created", Type: TypeTermination, PatchClientID: clientID, Instance: WithServiceName(u.cat, t)})
	return nil
}

func (u *unit) update(ctx context.Context, id int64, in Fields, clientID int64) error {
	current, err := u.w.Termination(ctx, id)
	if err != nil {
		return NotFound(err, id)
	}
	t := in.applyTo(current)
	if err := t.Validate(u.cat); err != nil {
		return err
	}
	if err := u.w.Update(ctx, t); err != nil {
		return err
	}
	u.record(Change{Identity: t.ID, Action: "updated", Type: TypeTermination, PatchClientID: clientID, Instance: WithServiceName(u.cat, t)})
	return nil
}

func (u *unit) delete(ctx context.Context, id int64, clientID int64) error {
	d, err := u.w.Delete(ctx, id)
	if err != nil {
		return NotFound(err, id)
	}
	u.record(Change{Identity: id, Action: "deleted", Type: TypeTermination, PatchClientID: clientID})
	for _, chargeID := range d.ChargeIDs {
		u.record(Change{Identity: chargeID, Action: "deleted", Type: TypeCharge, PatchClientID: clientID})
	}
	for _, offeringID := range d.DetachedOfferings {
		u.record(Change{LHSID: offeringID, RHSID: id, Action: "detached", Type: TypeOfferingDefault, PatchClientID: clientID})
	}
	return nil
}

func (u *unit) createCharge(ctx context.Context, terminationID int64, in ChargeFields, clientID int64) error {
	if err := in.requireAll(); err != nil {
		return err
	}
	ch := in.applyTo(domain.TerminationCharge{})
	if err := ch.Validate(u.cat.MoneyLimits()); err != nil {
		return err
	}
	ch, err := u.w.CreateCharge(ctx, terminationID, ch)
	if err != nil {
		return NotFound(err, terminationID)
	}
	u.record(Change{Identity: ch.ID, Action: "created", Type: TypeCharge, PatchClientID: clientID, Instance: ch})
	return nil
}

func (u *unit) updateCharge(ctx context.Context, terminationID, chargeID int64, in ChargeFields, clientID int64) error {
	current, err := u.w.Charge(ctx, terminationID, chargeID)
	if err != nil {
		return chargeNotFound(err, terminationID, chargeID)
	}
	ch := in.applyTo(current)
	if err := ch.Validate(u.cat.MoneyLimits()); err != nil {
		return err
	}
	if err := u.w.UpdateCharge(ctx, terminationID, ch); err != nil {
		return chargeNotFound(err, terminationID, chargeID)
	}
	u.record(Change{Identity: ch.ID, Action: "updated", Type: TypeCharge, PatchClientID: clientID, Instance: ch})
	return nil
}

func (u *unit) deleteCharge(ctx context.Context, terminationID, chargeID int64, clientID int64) error {
	if err := u.w.DeleteCharge(ctx, terminationID, chargeID); err != nil {
		return chargeNotFound(err, terminationID, chargeID)
	}
	u.record(Change{Identity: chargeID, Action: "deleted", Type: TypeCharge, PatchClientID: clientID})
	return nil
}

func (u *unit) patch(ctx context.Context, pathID int64, p Patch) error {
	edited, deleted := []int64{pathID}, []int64{}
	for _, it := range p.ContractTerminations.Items {
		switch {
		case it.PatchType == PatchDelete && it.Identity != nil:
			deleted = append(deleted, *it.Identity)
		case it.PatchType == PatchDelete:
			deleted = append(deleted, pathID)
		case it.Identity != nil:
			edited = append(edited, *it.Identity)
		}
	}
	if err := u.w.LockInOrder(ctx, edited, deleted); err != nil {
		return err
	}
	if _, err := u.w.Termination(ctx, pathID); err != nil {
		return NotFound(err, pathID)
	}
	for i, it := range p.ContractTerminations.Items {
		id := pathID
		if it.Identity != nil {
			id = *it.Identity
		}
		var err error
		switch it.PatchType {
		case PatchCreate:
			err = u.create(ctx, it.Fields, it.clientID())
		case PatchUpdate:
			err = u.update(ctx, id, it.Fields, it.clientID())
		case PatchDelete:
			err = u.delete(ctx, id, it.clientID())
		}
		if err != nil {
			return atItem(fmt.Sprintf("contractTerminations.items[%d]", i), err)
		}
	}
	// Check has made sure charge updates and deletes carry an identity.
	for i, it := range p.ContractTerminationPeriodCharges.Items {
		var err error
		switch it.PatchType {
		case PatchCreate:
			err = u.createCharge(ctx, pathID, it.ChargeFields, it.clientID())
		case PatchUpdate:
			err = u.updateCharge(ctx, pathID, *it.Identity, it.ChargeFields, it.clientID())
		case PatchDelete:
			err = u.deleteCharge(ctx, pathID, *it.Identity, it.clientID())
		}
		if err != nil {
			return atItem(fmt.Sprintf("contractTerminationPeriodCharges.items[%d]", i), err)
		}
	}
	return nil
}
