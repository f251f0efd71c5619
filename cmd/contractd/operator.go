package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"text/tabwriter"
	"time"
)

// The operator commands talk to a running API with a key from the
// environment, like any other client: they never touch the database.

type apiClient struct {
	base string
	key  string
	http *http.Client
}

func newAPIClient() (*apiClient, error) {
	key := os.Getenv("CONTRACTD_API_KEY")
	if key == "" {
		return nil, errors.New("set CONTRACTD_API_KEY to an API key (an approver key to decide amendments)")
	}
	base := os.Getenv("CONTRACTD_URL")
	if base == "" {
		base = "http://localhost:8080"
	}
	return &apiClient{base: base, key: key, http: &http.Client{Timeout: 60 * time.Second}}, nil
}

// call sends a request and decodes a 2xx JSON answer into out; other answers
// become errors carrying the API's message.
func (c *apiClient) call(ctx context.Context, method, path string, body, out any) error {
	var reader io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		reader = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, reader)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("call %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(raw, &e) == nil && e.Message != "" {
			return fmt.Errorf("HTTP %d: %s", resp.StatusCode, e.Message)
		}
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, raw)
	}
	return json.Unmarshal(raw, out)
}

func runAmendments(ctx context.Context, out io.Writer, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: contractd amendments list --status S | show ID")
	}
	c, err := newAPIClient()
	if err != nil {
		return err
	}
	switch args[0] {
	case "list":
		fs := flag.NewFlagSet("amendments list", flag.ContinueOnError)
		status := fs.String("status", "REVIEW", "amendment status to list")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		return listAmendments(ctx, out, c, *status)
	case "show":
		fs := flag.NewFlagSet("amendments show", flag.ContinueOnError)
		asJSON := fs.Bool("json", false, "print the whole answer as JSON")
		id, err := parseID(fs, args[1:])
		if err != nil {
			return fmt.Errorf("usage: contractd amendments show ID [--json]: %w", err)
		}
		var am json.RawMessage
		if err := c.call(ctx, "GET", "/api/amendments/"+url.PathEscape(id), nil, &am); err != nil {
			return err
		}
		return printAmendment(out, am, *asJSON)
	default:
		return fmt.Errorf("unknown amendments command %q", args[0])
	}
}

func listAmendments(ctx context.Context, out io.Writer, c *apiClient, status string) error {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tCONTRACT\tACTION\tSTATUS\tDELTA\tSUBMITTED")
	token := ""
	for {
		var page struct {
			Items []struct {
				ID             string    `json:"id"`
				ContractNumber string    `json:"contractNumber"`
				Action         string    `json:"action"`
				Status         string    `json:"status"`
				CreatedOn      time.Time `json:"createdOn"`
				Quote          struct {
					RecurringDelta int64  `json:"recurringDelta"`
					Currency       string `json:"currency"`
				} `json:"quote"`
			} `json:"items"`
			NextPageToken string `json:"nextPageToken"`
		}
		q := url.Values{"status": {status}, "pageSize": {"200"}}
		if token != "" {
			q.Set("pageToken", token)
		}
		if err := c.call(ctx, "GET", "/api/amendments?"+q.Encode(), nil, &page); err != nil {
			return err
		}
		for _, it := range page.Items {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d %s\t%s\n", it.ID, it.ContractNumber, it.Action, it.Status,
				it.Quote.RecurringDelta, it.Quote.Currency, it.CreatedOn.Format(time.RFC3339))
		}
		if token = page.NextPageToken; token == "" {
			return w.Flush()
		}
	}
}

// runDecision approves or rejects an amendment: contractd approve|reject ID
// [--comment C] [--json].
func runDecision(ctx context.Context, out io.Writer, decision string, args []string) error {
	fs := flag.NewFlagSet(decision, flag.ContinueOnError)
	comment := fs.String("comment", "", "a comment recorded with the decision")
	asJSON := fs.Bool("json", false, "print the whole answer as JSON")
	id, err := parseID(fs, args)
	if err != nil {
		return fmt.Errorf("usage: contractd %s ID [--comment C] [--json]: %w", decision, err)
	}
	c, err := newAPIClient()
	if err != nil {
		return err
	}
	var am json.RawMessage
	if err := c.call(ctx, "POST", "/api/amendments/"+url.PathEscape(id)+"/"+decision, map[string]string{"comment": *comment}, &am); err != nil {
		return err
	}
	return printAmendment(out, am, *asJSON)
}

// parseID reads one ID and fs's flags, the flags before or after the ID.
func parseID(fs *flag.FlagSet, args []string) (string, error) {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	id := fs.Arg(0)
	if fs.NArg() > 0 {
		// Parse stops at the ID; the flags after it are parsed here.
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return "", err
		}
	}
	if id == "" || fs.NArg() > 0 {
		return "", errors.New("one amendment ID expected")
	}
	return id, nil
}
