package domain

import (
	"fmt"
	"slices"
)

// Action is one of the self-service amendment actions.
type Action string

const (
	QuantityChange Action = "QUANTITY_CHANGE"
	RateChange     Action = "RATE_CHANGE"
	OfferingChange Action = "OFFERING_CHANGE"
	AddOffering    Action = "ADD_OFFERING"
	RemoveOffering Action = "REMOVE_OFFERING"
	Cancellation   Action = "CANCELLATION"
)

// Actions lists every action, in the seed's order.
var Actions = []Action{QuantityChange, RateChange, OfferingChange, AddOffering, RemoveOffering, Cancellation}

// NextBillCycle is the one relative effective date the seed defines.
const NextBillCycle = "NEXT_BILL_CYCLE"

// Amendment statuses, recorded with every change.
const (
	StatusPending   = "PENDING"
	StatusReview    = "REVIEW"
	StatusScheduled = "SCHEDULED"
	StatusApplied   = "APPLIED"
	StatusRejected  = "REJECTED"
	StatusExpired   = "EXPIRED"
	StatusWithdrawn = "WITHDRAWN"
	StatusFailed    = "FAILED"
)

// Statuses lists every amendment status.
var Statuses = []string{StatusPending, StatusReview, StatusScheduled, StatusApplied, StatusRejected, StatusExpired, StatusWithdrawn, StatusFailed}

// OpenStatuses are the statuses in which an amendment still holds its contract.
var OpenStatuses = []string{StatusPending, StatusReview, StatusScheduled}

// OfferingChangeItem is one entry of a payload's offerings list; which fields
// apply depends on the action.
type OfferingChangeItem struct {
	OfferingID    string             `json:"offeringId"`
	RateID        string             `json:"rateId,omitempty"`
	NewOfferingID string             `json:"newOfferingId,omitempty"`
	Products      []RequestedProduct `json:"products,omitempty"`
}

// ChangePayload is the seed's payload for every action but CANCELLATION.
type ChangePayload struct {
	Offerings []OfferingChangeItem `json:"offerings"`
}

// Change is a decoded self-service request.
type Change struct {
	Action                Action         `json:"action"`
	ContractID            string         `json:"contractId"`
	EffectiveDate         Date           `json:"effectiveDate"`
	RelativeEffectiveDate string         `json:"relativeEffectiveDate,omitempty"`
	Payload               *ChangePayload `json:"payload"`
	RequireApproval       bool           `json:"requireApproval,omitempty"`
	// Crossgrade is set by the crossgrade surface only.
	Crossgrade *CrossgradeChange `json:"crossgrade,omitempty"`
	// Renewal are the new terms of a RENEWAL_TERMS_CHANGE.
	Renewal *RenewalTerms `json:"renewal,omitempty"`
	// ModeOnly is set by the API on a customer key's RENEWAL_TERMS_CHANGE:
	// only Renewal.Mode is the requester's, and the numbers are the
	// contract's on the change's date, taken again each time the change is
	// planned (see PlanTermsChange). A change recorded without it keeps the
	// numbers it gave. Never a field of a request.
	ModeOnly bool `json:"modeOnly,omitempty"`
}

// SelfServiceActions are the actions a client may ask for on the
// self-service surface: the seed's, and the change of renewal terms.
var SelfServiceActions = append(slices.Clone(Actions), RenewalTermsChange)

// Validate checks the request's shape: what can be known without the contract.
func (c Change) Validate() error {
	if !slices.Contains(SelfServiceActions, c.Action) {
		return Errorf(KindInvalid, "action", "action %q is not one of %v", c.Action, SelfServiceActions)
	}
	if c.ContractID == "" {
		return Errorf(KindInvalid, "contractId", "contractId is required")
	}
	if c.Crossgrade != nil {
		return Errorf(KindInvalid, "crossgrade", "crossgrade is not a field of a self-service request")
	}
	if c.ModeOnly {
		return Errorf(KindInvalid, "modeOnly", "modeOnly is not a field of a self-service request")
	}
	if c.RelativeEffectiveDate != "" && c.RelativeEffectiveDate != NextBillCycle && c.RelativeEffectiveDate != EndOfTerm {
		return Errorf(KindInvalid, "relativeEffectiveDate", "relativeEffectiveDate must be %s or %s", NextBillCycle, EndOfTerm)
	}
	if c.Action == RenewalTermsChange {
		return c.validateTermsChange()
	}
	if c.Renewal != nil {
		return Errorf(KindInvalid, "renewal", "renewal is only a field of %s", RenewalTermsChange)
	}
	if c.Action == Cancellation {
		if c.Payload != nil {
			return Errorf(KindInvalid, "payload", "payload must be null for CANCELLATION")
		}
		return nil
	}
	if c.Payload == nil || len(c.Payload.Offerings) == 0 {
		return Errorf(KindInvalid, "payload.offerings", "payload.offerings must list at least one offering for %s", c.Action)
	}
	seen := map[string]bool{}
	for i, o := range c.Payload.Offerings {
		field := fmt.Sprintf("payload.offerings[%d]", i)
		if o.OfferingID == "" {
			return Errorf(KindInvalid, field+".offeringId", "%s.offeringId is required", field)
		}
		if seen[o.OfferingID] {
			return Errorf(KindInvalid, field+".offeringId", "%s.offeringId %q is listed twice", field, o.OfferingID)
		}
		seen[o.OfferingID] = true
		if err := c.validateItem(o, field); err != nil {
			return err
		}
	}
	return nil
}

func (c Change) validateItem(o OfferingChangeItem, field string) error {
	need := func(ok bool, name string) error {
		if ok {
			return nil
		}
		return Errorf(KindInvalid, field+"."+name, "%s.%s is required for %s", field, name, c.Action)
	}
	refuse := func(set bool, name string) error {
		if !set {
			return nil
		}
		return Errorf(KindInvalid, field+"."+name, "%s.%s is not allowed for %s", field, name, c.Action)
	}
	var errs []error
	switch c.Action {
	case QuantityChange:
		errs = []error{need(o.Products != nil, "products"), refuse(o.RateID != "", "rateId"), refuse(o.NewOfferingID != "", "newOfferingId")}
	case RateChange:
		errs = []error{need(o.RateID != "", "rateId"), refuse(o.NewOfferingID != "", "newOfferingId")}
	case OfferingChange:
		errs = []error{need(o.NewOfferingID != "", "newOfferingId"), need(o.Products != nil, "products"), refuse(o.RateID != "", "rateId")}
	case AddOffering:
		errs = []error{need(o.Products != nil, "products"), refuse(o.NewOfferingID != "", "newOfferingId")}
	case RemoveOffering:
		errs = []error{refuse(o.RateID != "", "rateId"), refuse(o.NewOfferingID != "", "newOfferingId"), refuse(o.Products != nil, "products")}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	for j, p := range o.Products {
		pf := fmt.Sprintf("%s.products[%d]", field, j)
		if p.ProductID == "" {
			return Errorf(KindInvalid, pf+".productId", "%s.productId is required", pf)
		}
		if seen[p.ProductID] {
			return Errorf(KindInvalid, pf+".productId", "%s.productId %q is listed twice", pf, p.ProductID)
		}
		seen[p.ProductID] = true
		if err := checkQuantity(p.Quantity, pf+".quantity"); err != nil {
			return err
		}
	}
	return nil
}

func (c Change) validateTermsChange() error {
	if c.Payload != nil {
		return Errorf(KindInvalid, "payload", "payload must be null for %s", RenewalTermsChange)
	}
	if c.Renewal == nil {
		return Errorf(KindInvalid, "renewal", "renewal is required for %s", RenewalTermsChange)
	}
	return c.Renewal.WithDefaults().Validate("renewal")
}
