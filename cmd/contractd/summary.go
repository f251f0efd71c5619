package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// amendmentView is what an operator's summary shows of an amendment answer
// (GET /api/amendments/{id}, or a decision's answer).
type amendmentView struct {
	ID              string `json:"id"`
	ContractNumber  string `json:"contractNumber"`
	Action          string `json:"action"`
	Status          string `json:"status"`
	EffectiveDate   string `json:"effectiveDate"`
	ReviewExpiresAt string `json:"reviewExpiresAt"`
	MatchedRule     *struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"matchedRule"`
	Quote struct {
		Currency        string `json:"currency"`
		BillingPeriod   string `json:"billingPeriod"`
		RecurringBefore int64  `json:"recurringBefore"`
		RecurringAfter  int64  `json:"recurringAfter"`
		RecurringDelta  int64  `json:"recurringDelta"`
		ProrationTotal  int64  `json:"prorationTotal"`
		TerminationFee  int64  `json:"terminationFee"`
	} `json:"quote"`
	Invoice *struct {
		Total  int64  `json:"total"`
		Status string `json:"status"`
	} `json:"invoice"`
	History []struct {
		Status  string    `json:"status"`
		ActorID string    `json:"actorId"`
		Source  string    `json:"source"`
		Note    string    `json:"note"`
		At      time.Time `json:"at"`
	} `json:"history"`
}

// printAmendment writes an amendment answer as a short summary, or whole as
// indented JSON with asJSON.
func printAmendment(out io.Writer, raw json.RawMessage, asJSON bool) error {
	if asJSON {
		return printJSON(out, raw)
	}
	var am amendmentView
	if err := json.Unmarshal(raw, &am); err != nil {
		return fmt.Errorf("read amendment: %w", err)
	}
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	q := am.Quote
	fmt.Fprintf(w, "amendment\t%s\n", am.ID)
	fmt.Fprintf(w, "change\t%s on %s, effective %s\n", am.Action, am.ContractNumber, am.EffectiveDate)
	fmt.Fprintf(w, "status\t%s\n", am.Status)
	fmt.Fprintf(w, "recurring\t%d → %d %s %s (%+d)\n", q.RecurringBefore, q.RecurringAfter, q.Currency, strings.ToLower(q.BillingPeriod), q.RecurringDelta)
	fmt.Fprintf(w, "prorated\t%d %s\n", q.ProrationTotal, q.Currency)
	if q.TerminationFee != 0 {
		fmt.Fprintf(w, "termination fee\t%d %s\n", q.TerminationFee, q.Currency)
	}
	if am.Invoice != nil {
		fmt.Fprintf(w, "invoice\t%d %s, %s\n", am.Invoice.Total, q.Currency, am.Invoice.Status)
	}
	if am.MatchedRule != nil {
		review := fmt.Sprintf("held by %q (%s)", am.MatchedRule.Name, am.MatchedRule.ID)
		if am.Status == "REVIEW" && am.ReviewExpiresAt != "" {
			review += ", decide before " + am.ReviewExpiresAt
		}
		fmt.Fprintf(w, "review\t%s\n", review)
	}
	for i, h := range am.History {
		label := ""
		if i == 0 {
			label = "history"
		}
		line := fmt.Sprintf("%s  %s by %s (%s)", h.At.UTC().Format(time.RFC3339), h.Status, h.ActorID, h.Source)
		if h.Note != "" {
			line += fmt.Sprintf(": %q", h.Note)
		}
		fmt.Fprintf(w, "%s\t%s\n", label, line)
	}
	fmt.Fprintln(w, "\t(amounts in minor units; --json for the whole answer)")
	return w.Flush()
}

func printJSON(out io.Writer, raw json.RawMessage) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return err
	}
	buf.WriteByte('\n')
	_, err := buf.WriteTo(out)
	return err
}
