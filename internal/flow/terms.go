package flow

import (
	"time"

	"github.com/contractd/contractd/internal/domain"
)

// Workflow type names of contract terms.
const (
	// ContractTermWorkflow carries out the end of one term of one contract.
	ContractTermWorkflow = "ContractTermWorkflow"
	// TermsSweepWorkflow starts the ContractTermWorkflow of every term whose
	// notice date has come; the Schedule TermsScheduleID runs it daily.
	TermsSweepWorkflow = "TermsSweepWorkflow"
)

// TermsScheduleID names the Temporal Schedule that sweeps terms every day.
const TermsScheduleID = "terms-daily"

// ContractTermWorkflowID is deterministic per contract and term end: a
// term's end is carried out by one workflow, however often it is started.
func ContractTermWorkflowID(tenantID, contractID string, end domain.Date) string {
	return "contract-term/" + tenantID + "/" + contractID + "/" + end.String()
}

// TermsSweepWorkflowID is the id the daily schedule starts sweeps under.
const TermsSweepWorkflowID = "terms-sweep"

// TermInput names one term of a contract: the contract's expiration date
// when the term's workflow was started, and the days before it that its
// renewal opens (AUTO_RENEW only; 0 otherwise).
type TermInput struct {
	TenantID   string
	ContractID string
	End        domain.Date
	NoticeDays int
	// FoundAt is the business clock's time when the term was found due:
	// the workflow's waits are measured from it, as an amendment's wait for
	// its date is measured from when it was opened.
	FoundAt time.Time
	// TestClockID is the contract's test clock, if it lives on one: then
	// the waits are on that clock, and FoundAt is its time.
	TestClockID string `json:",omitempty"`
	// RenewalRefused is, for the term's end, why its renewal was refused
	// when last opened: the contract expires saying so.
	RenewalRefused string `json:",omitempty"`
}

// TermsSweepInput asks for the terms whose notice date has come by AsOf to
// be watched: of ContractIDs of TenantID when given (the contracts a
// contract action just created), else of every contract of every tenant.
// AfterRef carries a sweep across continue-as-new.
type TermsSweepInput struct {
	AsOf        domain.Date
	TenantID    string   `json:",omitempty"`
	ContractIDs []string `json:",omitempty"`
	AfterRef    int64    `json:",omitempty"`
	// TestClockID sweeps the contracts on that test clock, as of its day,
	// or names the clock of ContractIDs.
	TestClockID string `json:",omitempty"`
}

// TermsPage is one page of a sweep: the terms it started watching.
type TermsPage struct {
	Started int
	LastRef int64
	More    bool
}

// RenewalOpened is what opening a term's renewal did: the amendment's id and
// where it stands, or nothing to open (the contract does not auto-renew, is
// cancelled at the end, or its renewal is open already).
type RenewalOpened struct {
	AmendmentID string `json:",omitempty"`
	Status      string `json:",omitempty"`
	Reason      string `json:",omitempty"`
	// Refused says the renewal was refused when opened (its uplifted prices
	// beyond the tenant's limits, say): Reason is the refusal.
	Refused bool `json:",omitempty"`
}

// TermEnded is how a term's end went: EXPIRED, RENEWING (an accepted
// renewal applies on the date) or UNCHANGED; Rebased as in Applied.
type TermEnded struct {
	Outcome string
	Rebased bool `json:",omitempty"`
}
