package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/contractd/contractd/internal/auth"
	"github.com/contractd/contractd/internal/testkit"
)

// The browser test drives Debian's chromium against the real service. With
// UI_SCREENSHOTS set to a directory (relative to the repository root), it
// keeps its screenshots there; to refresh the README's:
//
//	UI_SCREENSHOTS=docs go test ./ui/ -run Browser

// stepTimeout bounds one browser step; the longest wait is the inbox's own
// 10-second refresh.
const stepTimeout = 45 * time.Second

// The browser's window: a laptop's.
const windowWidth, windowHeight = 1280, 900

// The business date the test runs on.
var today = time.Date(2026, 3, 15, 10, 0, 0, 0, time.UTC)

func TestApproverDecidesInTheBrowser(t *testing.T) {
	exe := chromiumPath(t)
	env := testkit.New(t)
	env.Clock.Set(today)
	putRules(t, env,
		map[string]any{"id": "cancel", "name": "Cancellations", "when": `action == "CANCELLATION"`},
		map[string]any{"id": "big", "name": "Big increases", "when": `quote.percentChange > 50.0`})

	// Oldest first: a seat increase, a cancellation, and one submitted by an
	// actor who is also an approver.
	seatsContract := env.CreateContract(map[string]any{"quantities": map[string]int{"prod_seat": 5}})
	increase := hold(t, env, env.A.SubmitterKey, seats(seatsContract["id"], 20))
	cancelContract := env.CreateContract(nil)
	decidedElsewhere := hold(t, env, env.A.SubmitterKey, cancel(cancelContract["id"]))
	both := env.NewTenantKey(env.A, auth.RoleSubmitter, auth.RoleApprover)
	own := hold(t, env, both, cancel(env.CreateContract(nil)["id"]))

	b := newBrowser(t, exe)
	b.do(chromedp.Navigate(env.HTTP.URL+"/ui/"), chromedp.WaitVisible(chromedp.ID("key")))

	// Only an approver key signs in, and it stays out of URLs.
	b.signIn("ck_ta_unknown")
	b.do(waitText("#sign-in-message", "This key was not recognised."))
	b.signIn(env.A.SubmitterKey)
	b.do(waitText("#sign-in-message", "This key cannot approve changes."))

	b.signIn(env.A.ApproverKey)
	b.do(chromedp.WaitVisible(rowLink(own)))
	assert.NotContains(t, run(b, chromedp.Location()), env.A.ApproverKey)
	stored := run(b, chromedp.Evaluate[string](`sessionStorage.getItem("contractd.approverKey") + " " + localStorage.length`))
	assert.Equal(t, env.A.ApproverKey+" 0", stored, "kept for the tab's session only")

	// The inbox lists held changes oldest first and filters by action.
	rows := b.rowTexts()
	require.Len(t, rows, 3)
	assert.Contains(t, rows[0], seatsContract["number"])
	assert.Contains(t, rows[0], seatsContract["accountNumber"])
	assert.Contains(t, rows[0], "Quantity change")
	assert.Contains(t, rows[0], "+USD 225.00", "recurring change per period: 5 → 20 seats at 15.00")
	assert.Contains(t, rows[0], "USD 80.00 → USD 305.00")
	assert.Contains(t, rows[0], "Big increases")
	assert.Contains(t, rows[0], env.A.SubmitterActor)
	assert.Contains(t, rows[0], "submitter key", "the submitter's display name beside its uuid")
	assert.Contains(t, rows[0], "USER")
	assert.Contains(t, rows[1], cancelContract["number"])
	assert.Contains(t, rows[1], "Cancellations")
	b.do(waitText("#inbox-summary", "3 changes awaiting review, oldest first."))
	unlabelled := run(b, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll("input, select, textarea")].filter(e => e.labels.length === 0).map(e => e.id)`))
	assert.Empty(t, unlabelled, "every form control has a label")
	b.screenshot("ui-inbox.png")
	b.fitsNarrowScreen("ui-inbox-narrow.png")

	// Type-ahead on the focused select, as a keyboard user would.
	b.do(chromedp.SendKeys(chromedp.ID("action-filter"), "Cancellation"))
	b.do(waitText("#inbox-summary", "Showing 2 of 3 changes awaiting review: Cancellation only."))
	assert.Len(t, b.rowTexts(), 2)
	b.do(chromedp.Focus(chromedp.ID("action-filter")), chromedp.KeyEvent(kb.Home))
	b.do(waitText("#inbox-summary", "3 changes awaiting review, oldest first."))

	// An approver reviews the lines side by side and approves.
	b.do(chromedp.Click(rowLink(increase)), chromedp.WaitVisible(chromedp.ID("approve")))
	b.do(waitText("#detail-title", "Quantity change of contract "+seatsContract["number"].(string)))
	page := b.text("#detail-view")
	for _, want := range []string{"Awaiting review", "Big increases", "Team", "User seat", "Total per period",
		"Proration", "Invoice preview", "History", "Submitted"} {
		assert.Contains(t, page, want)
	}
	changed := run(b, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#detail-body ins")].map(e => e.textContent.replace(/\s+/g, " "))`))
	assert.Equal(t, []string{"20", "USD 305.00", "USD 305.00"}, changed, "seats, the line's amount and the total")
	b.do(chromedp.SendKeys(chromedp.ID("comment"), "Agreed with sales"))
	b.screenshot("ui-detail.png")
	b.fitsNarrowScreen("")

	// By keyboard: focus the button and press Enter.
	b.do(chromedp.Focus(chromedp.ID("approve")), chromedp.KeyEvent(kb.Enter))
	b.do(waitText("#decision-message", "Approved. The change has been applied to contract "+seatsContract["number"].(string)))
	assert.Equal(t, "decision-message", run(b, chromedp.Evaluate[string](`document.activeElement.id`)), "focus moves to the outcome")

	am := env.Do("GET", "/api/amendments/"+increase, env.A.ApproverKey, nil).JSON(t)
	assert.Equal(t, "APPLIED", am["status"])
	var notes []any
	for _, ev := range am["history"].([]any) {
		if ev := ev.(map[string]any); ev["status"] == "APPROVED" {
			notes = append(notes, ev["note"])
		}
	}
	assert.Equal(t, []any{"Agreed with sales"}, notes, "the comment is recorded with the approval")

	// A decision taken elsewhere meanwhile is explained.
	b.do(chromedp.Click(chromedp.CSS(`#detail-view a[href="#/"]`)), chromedp.WaitNotPresent(rowLink(increase)))
	b.do(chromedp.Click(rowLink(decidedElsewhere)), chromedp.WaitVisible(chromedp.ID("reject")))
	other := env.Do("POST", "/api/amendments/"+decidedElsewhere+"/approve", env.A.ApproverKey, map[string]any{"comment": "agreed by phone"})
	require.Equal(t, http.StatusOK, other.Status, "%s", other.Body)

	b.do(chromedp.Click(chromedp.ID("reject")))
	b.do(waitText("#decision-message", "Your decision was not recorded. This change has already been decided: it is now applied"))
	assert.True(t, run(b, chromedp.Evaluate[bool](`document.getElementById("decision-form").hidden`)))
	b.do(waitText("#detail-body .badge", "Applied"))
	assert.Equal(t, "APPLIED", env.Do("GET", "/api/amendments/"+decidedElsewhere, env.A.ApproverKey, nil).JSON(t)["status"])

	// The inbox refreshes by itself.
	b.do(chromedp.Click(chromedp.CSS(`#detail-view a[href="#/"]`)), chromedp.WaitVisible(rowLink(own)))
	late := hold(t, env, env.A.SubmitterKey, cancel(env.CreateContract(nil)["id"]))
	b.do(chromedp.WaitVisible(rowLink(late)))

	// An expired review is explained.
	putRules(t, env, map[string]any{"id": "cancel", "name": "Cancellations", "when": `action == "CANCELLATION"`, "expiresAfter": "3s"})
	expiring := hold(t, env, env.A.SubmitterKey, cancel(env.CreateContract(nil)["id"]))
	// With no worker the expiry cannot be acted on before the page shows the change.
	env.StopWorker()
	b.do(chromedp.Evaluate[chromedp.Void](`location.hash = `+js("#/amendments/"+expiring)), chromedp.WaitVisible(chromedp.ID("approve")))
	env.StartWorker()
	require.Eventually(t, func() bool {
		return env.Do("GET", "/api/amendments/"+expiring, env.A.ApproverKey, nil).JSON(t)["status"] == "EXPIRED"
	}, 30*time.Second, 200*time.Millisecond)

	b.do(chromedp.Click(chromedp.ID("approve")))
	b.do(waitText("#decision-message", "Your decision was not recorded. This review expired"))
	b.do(waitText("#decision-message", "so the change was not applied"))

	// The four-eyes rule is explained to the submitter.
	b.do(chromedp.Click(chromedp.ID("sign-out")), chromedp.WaitVisible(chromedp.ID("key")))
	b.do(waitText("#sign-in-message", "You have signed out."))
	assert.True(t, run(b, chromedp.Evaluate[bool](`sessionStorage.length === 0`)))

	b.signIn(both)
	b.do(chromedp.Click(rowLink(own)), chromedp.WaitVisible(chromedp.ID("approve")))
	b.do(chromedp.SendKeys(chromedp.ID("comment"), "my own change"), chromedp.Click(chromedp.ID("approve")))
	b.do(waitText("#decision-message", "You submitted this change yourself"))
	b.do(waitText("#decision-message", "the four-eyes rule needs a second person"))
	assert.False(t, run(b, chromedp.Evaluate[bool](`document.getElementById("decision-form").hidden`)), "another approver may still decide")
	assert.Equal(t, "my own change", run(b, chromedp.Value(chromedp.ID("comment"))), "the comment is kept")
	assert.Equal(t, "REVIEW", env.Do("GET", "/api/amendments/"+own, both, nil).JSON(t)["status"])
}

// chromiumPath finds the browser. It is optional on a developer's machine
// but required in CI, where .ci/run installs it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed; CI must install it (apt-get install -y chromium)")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium); skipping the browser test")
	return ""
}

// browser is one tab of a headless chromium of its own.
type browser struct {
	t   *testing.T
	ctx context.Context

	mu           sync.Mutex
	scriptErrors []string
}

func newBrowser(t *testing.T, exe string) *browser {
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(windowWidth, windowHeight),
		// The machine has no network: nothing may try to reach one.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// Money and dates follow the browser's locale; the assertions expect this one.
		chromedp.Flag("lang", "en-US"),
	)
	// Cleanups run last first: the tab closes, then chromium exits, then its
	// profile directory is removed.
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	// The first run starts chromium and binds it to its context, so it gets
	// the tab's own context, not a step's, which ends with the step.
	require.NoError(t, chromedp.Do(ctx))
	b := &browser{t: t, ctx: ctx}
	require.NoError(t, chromedp.Listen(ctx, b.noteScriptError))
	t.Cleanup(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		assert.Empty(t, b.scriptErrors, "the page's script failed or logged errors")
	})
	return b
}

// noteScriptError records uncaught exceptions and console errors, which the
// page's own messages could otherwise hide.
func (b *browser) noteScriptError(ev any) {
	var problem string
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		problem = ev.ExceptionDetails.Text
		if ex := ev.ExceptionDetails.Exception; ex != nil {
			problem += " " + ex.Description
		}
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError {
			return
		}
		problem = "console.error:"
		for _, arg := range ev.Args {
			text := arg.Description
			if text == "" {
				text = string(arg.Value)
			}
			problem += " " + text
		}
	default:
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.scriptErrors = append(b.scriptErrors, problem)
}

// do runs steps and fails the test, with what the page shows, if one fails.
func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v\nthe page shows:\n%s", err, b.pageText())
	}
}

// run runs one step and returns its value.
func run[T any](b *browser, step chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, step)
	if err != nil {
		b.t.Fatalf("browser: %v\nthe page shows:\n%s", err, b.pageText())
	}
	return v
}

func (b *browser) pageText() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		return fmt.Sprintf("(unreadable: %v)", err)
	}
	return text
}

// text is what an element shows, with runs of white space (including the
// no-break spaces of formatted money) as one space.
func (b *browser) text(selector string) string {
	b.t.Helper()
	return run(b, chromedp.Evaluate[string](`document.querySelector(`+js(selector)+`).innerText.replace(/\s+/g, " ")`))
}

func (b *browser) rowTexts() []string {
	b.t.Helper()
	return run(b, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#inbox-rows tr")].map(r => r.innerText.replace(/\s+/g, " "))`))
}

func (b *browser) signIn(key string) {
	b.t.Helper()
	b.do(chromedp.SetValue(chromedp.ID("key"), key), chromedp.Click(chromedp.CSS(`#sign-in-form button[type="submit"]`)))
}

// fitsNarrowScreen checks that the current page needs no sideways scrolling
// on a phone, and keeps a screenshot of it when name is given.
func (b *browser) fitsNarrowScreen(name string) {
	b.t.Helper()
	b.do(chromedp.EmulateViewport(390, 844))
	defer b.do(chromedp.EmulateViewport(windowWidth, windowHeight))
	assert.True(b.t, run(b, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`)),
		"the page is wider than a phone's screen")
	if name != "" {
		b.screenshot(name)
	}
}

// screenshot keeps a PNG of the whole page in $UI_SCREENSHOTS, if set.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	dir := os.Getenv("UI_SCREENSHOTS")
	if dir == "" {
		return
	}
	if !filepath.IsAbs(dir) {
		// Tests run in the package's directory, one below the repository root.
		dir = filepath.Join("..", dir)
	}
	png := run(b, chromedp.FullScreenshot(100))
	require.NoError(b.t, os.MkdirAll(dir, 0o755))
	require.NoError(b.t, os.WriteFile(filepath.Join(dir, name), png, 0o644))
}

// waitText waits until the element's text, white space collapsed, contains want.
func waitText(selector, want string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](
		`(document.querySelector(`+js(selector)+`)?.innerText ?? "").replace(/\s+/g, " ").includes(`+js(want)+`)`,
		chromedp.WithPollingTimeout(stepTimeout))
}

func rowLink(amendmentID string) chromedp.CSS {
	return chromedp.CSS(`#inbox-rows a[data-id="` + amendmentID + `"]`)
}

// js quotes s as a JavaScript string literal.
func js(s string) string {
	raw, _ := json.Marshal(s)
	return string(raw)
}

func putRules(t *testing.T, env *testkit.Env, rules ...map[string]any) {
	t.Helper()
	resp := env.Do("PUT", "/api/approval-rules", env.A.OperatorKey, map[string]any{"rules": rules})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
}

// hold submits a change through the self-service API that a rule holds for
// review, and returns the amendment's id.
func hold(t *testing.T, env *testkit.Env, key string, change map[string]any) string {
	t.Helper()
	resp := env.Do("POST", "/api/selfService/contract", key, change)
	require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
	return resp.JSON(t)["quote"].(map[string]any)["id"].(string)
}

func cancel(contractID any) map[string]any {
	return map[string]any{"action": "CANCELLATION", "contractId": contractID, "payload": nil}
}

func seats(contractID any, n int) map[string]any {
	return map[string]any{
		"action": "QUANTITY_CHANGE", "contractId": contractID,
		"payload": map[string]any{"offerings": []any{map[string]any{
			"offeringId": "off_team", "products": []any{map[string]any{"productId": "prod_seat", "quantity": n}},
		}}},
	}
}
