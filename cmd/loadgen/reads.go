package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
)

// The read kinds measure the tenant's listings and a contract's timeline at
// whatever size the tenant has (see -seed, hold, park, ramp and grow). Where
// they need to know what exists (how many contracts, which accounts, which
// contracts have open amendments, where a later page of the inbox starts)
// they draw it at random from a sample read once from Postgres
// (-database-url) before the measured requests, so the requests themselves
// are only HTTP.
var readKinds = map[string]kind{
	"list":           listDeep,
	"list-first":     listFirst,
	"list-account":   listAccount,
	"list-status":    listStatus,
	"inbox":          inbox,
	"inbox-deep":     inboxDeep,
	"list-review":    listInStatus("list-review", "REVIEW"),
	"list-scheduled": listInStatus("list-scheduled", "SCHEDULED"),
	"timeline-open":  timeline("timeline-open", func(s *sample) []string { return s.withOpen }),
	"timeline-quiet": timeline("timeline-quiet", func(s *sample) []string { return s.withoutOpen }),
}

func init() { maps.Copy(kinds, readKinds) }

// sample is what the read kinds pick from.
type sample struct {
	maxRef      int64
	accounts    []string
	withOpen    []string // contracts with an open amendment
	withoutOpen []string
	inReview    []string // page tokens starting after an amendment in REVIEW
}

// sampleSize is how many of each thing the sample holds.
const sampleSize = 500

// onlyReads reports whether every kind in the mix is a read, so the run needs
// no contracts of its own.
func onlyReads(mix map[string]int) bool {
	for name := range mix {
		if _, ok := readKinds[name]; !ok {
			return false
		}
	}
	return true
}

func needsSample(mix map[string]int) bool {
	for name := range mix {
		if _, ok := readKinds[name]; ok {
			return true
		}
	}
	return false
}

func loadSample(ctx context.Context, databaseURL, prefix string) (*sample, error) {
	db, err := sqlx.Open("postgres", databaseURL)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var tenantID string
	if err := db.GetContext(ctx, &tenantID, `SELECT id FROM tenants WHERE prefix = $1`, prefix); err != nil {
		return nil, fmt.Errorf("tenant %s: %w", prefix, err)
	}
	s := &sample{}
	if err := db.GetContext(ctx, &s.maxRef, `SELECT COALESCE(max(ref), 0) FROM contracts WHERE tenant_id = $1`, tenantID); err != nil {
		return nil, fmt.Errorf("sample contracts: %w", err)
	}
	open := `SELECT contract_id FROM amendments WHERE tenant_id = $1 AND status IN ('PENDING', 'SCHEDULED', 'REVIEW')`
	queries := []struct {
		into  *[]string
		query string
	}{
		{&s.accounts, `SELECT number FROM accounts TABLESAMPLE BERNOULLI (1) WHERE tenant_id = $1 LIMIT $2`},
		{&s.withOpen, `SELECT DISTINCT contract_id FROM (` + open + ` ORDER BY random() LIMIT $2) o`},
		{&s.withoutOpen, `SELECT id FROM contracts TABLESAMPLE BERNOULLI (1) WHERE tenant_id = $1 AND id NOT IN (` + open + `) LIMIT $2`},
	}
	for _, q := range queries {
		if err := db.SelectContext(ctx, q.into, q.query, tenantID, sampleSize); err != nil {
			return nil, fmt.Errorf("sample: %w", err)
		}
	}
	if len(s.accounts) == 0 {
		// A 1 % sample of a tenant's few hundred accounts is often none,
		// and list-account would send ?accountNumber= (a 400, and before
		// that every contract rather than one account's); so few are read
		// whole.
		if err := db.SelectContext(ctx, &s.accounts, `SELECT number FROM accounts WHERE tenant_id = $1 ORDER BY random() LIMIT $2`, tenantID, sampleSize); err != nil {
			return nil, fmt.Errorf("sample accounts: %w", err)
		}
	}
	var review []struct {
		CreatedAt time.Time `db:"created_at"`
		ID        string    `db:"id"`
	}
	err = db.SelectContext(ctx, &review, `SELECT created_at, id FROM amendments WHERE tenant_id = $1 AND status = 'REVIEW' ORDER BY random() LIMIT $2`, tenantID, sampleSize)
	if err != nil {
		return nil, fmt.Errorf("sample the inbox: %w", err)
	}
	for _, r := range review {
		// The inbox's page token (api.listCursorToken): a page after this one.
		raw, _ := json.Marshal(map[string]any{"t": r.CreatedAt, "id": r.ID})
		s.inReview = append(s.inReview, base64.RawURLEncoding.EncodeToString(raw))
	}
	fmt.Fprintf(os.Stderr, "sampled: %d contracts, %d accounts, %d with open amendments, %d without, %d inbox positions\n",
		s.maxRef, len(s.accounts), len(s.withOpen), len(s.withoutOpen), len(s.inReview))
	return s, nil
}

func pick(from []string) string {
	if len(from) == 0 {
		return ""
	}
	return from[rand.IntN(len(from))]
}

// contractPageAfter is the contract list's page token (api.encodePageToken)
// for a page after a random contract of the tenant.
func (s *sample) contractPageAfter() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(1+rand.Int64N(max(s.maxRef, 1)), 10)))
}

func listFirst(ctx context.Context, c *apiClient, _ *contract, rec *recorder) {
	c.timed(ctx, rec, "list-first", http.StatusOK, "GET", "/api/contracts?pageSize=50", c.submitterKey, nil)
}

// listDeep reads a page of contracts from a random position.
func listDeep(ctx context.Context, c *apiClient, _ *contract, rec *recorder) {
	c.timed(ctx, rec, "list", http.StatusOK, "GET", "/api/contracts?pageSize=50&pageToken="+c.sample.contractPageAfter(), c.submitterKey, nil)
}

// listAccount reads the first page of one account's contracts.
func listAccount(ctx context.Context, c *apiClient, _ *contract, rec *recorder) {
	path := "/api/contracts?pageSize=50&accountNumber=" + url.QueryEscape(pick(c.sample.accounts))
	c.timed(ctx, rec, "list-account", http.StatusOK, "GET", path, c.submitterKey, nil)
}

// listStatus reads a page of active contracts from a random position.
func listStatus(ctx context.Context, c *apiClient, _ *contract, rec *recorder) {
	path := "/api/contracts?pageSize=50&status=active&pageToken=" + c.sample.contractPageAfter()
	c.timed(ctx, rec, "list-status", http.StatusOK, "GET", path, c.submitterKey, nil)
}

// inbox reads the first page of the approvers' inbox.
func inbox(ctx context.Context, c *apiClient, _ *contract, rec *recorder) {
	c.timed(ctx, rec, "inbox", http.StatusOK, "GET", "/api/approvals?pageSize=50", c.approverKey, nil)
}

// inboxDeep reads a page of the inbox from a random position in it.
func inboxDeep(ctx context.Context, c *apiClient, _ *contract, rec *recorder) {
	path := "/api/approvals?pageSize=50&pageToken=" + pick(c.sample.inReview)
	c.timed(ctx, rec, "inbox-deep", http.StatusOK, "GET", path, c.approverKey, nil)
}

// listInStatus reads the first page of the amendments in a status.
func listInStatus(name, status string) kind {
	return func(ctx context.Context, c *apiClient, _ *contract, rec *recorder) {
		c.timed(ctx, rec, name, http.StatusOK, "GET", "/api/amendments?pageSize=50&status="+status, c.submitterKey, nil)
	}
}

// timeline reads the timeline of a random contract from the sample's list.
func timeline(name string, from func(*sample) []string) kind {
	return func(ctx context.Context, c *apiClient, _ *contract, rec *recorder) {
		c.timed(ctx, rec, name, http.StatusOK, "GET", "/api/contracts/"+pick(from(c.sample))+"/timeline", c.submitterKey, nil)
	}
}
