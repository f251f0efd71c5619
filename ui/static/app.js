// The approvers' inbox: one page, driven by the JSON API. The key is kept in
// sessionStorage only (gone when the tab closes) and sent only in the
// Authorization header. Everything shown is built with DOM calls and
// textContent, never innerHTML, so data from the API cannot inject markup.

const KEY_ITEM = 'contractd.approverKey';
const REFRESH_MS = 10_000;
const PAGE_SIZE = 100;
// The inbox is for reading, not for auditing: past this, the oldest are enough.
const MAX_ITEMS = 500;

const ACTIONS = {
  QUANTITY_CHANGE: 'Quantity change',
  RATE_CHANGE: 'Rate change',
  OFFERING_CHANGE: 'Offering change',
  ADD_OFFERING: 'Add offering',
  REMOVE_OFFERING: 'Remove offering',
  CANCELLATION: 'Cancellation',
  CROSSGRADE: 'Crossgrade',
  RENEWAL: 'Renewal',
  RENEWAL_TERMS_CHANGE: 'Renewal terms change',
};

const STATUSES = {
  PENDING: 'Submitted',
  REVIEW: 'Awaiting review',
  ESCALATED: 'Escalated',
  APPROVED: 'Approved',
  SCHEDULED: 'Scheduled',
  APPLIED: 'Applied',
  REJECTED: 'Rejected',
  EXPIRED: 'Expired',
  WITHDRAWN: 'Withdrawn',
  FAILED: 'Failed',
};

const PERIODS = { MONTHLY: 'Monthly', QUARTERLY: 'Quarterly', ANNUAL: 'Annual' };

const $ = (id) => document.getElementById(id);

// ---- State -----------------------------------------------------------------

// The last inbox read: its items, and whether more exist past MAX_ITEMS.
let inbox = { items: [], more: false };
let refreshTimer = 0;
// Bumped whenever the inbox is left, so a refresh already under way when the
// approver moved on neither renders nor schedules another.
let refreshRound = 0;
// The amendment last opened, to return focus to its row in the inbox.
let lastOpened = '';
// The amendment on the detail page.
let shown = null;
// A promise of the catalog's names for ids; without a catalog ids are shown.
let names = null;

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// request calls the JSON API and returns the decoded body, or throws an
// ApiError whose status is 0 when the service could not be reached.
async function request(path, { method = 'GET', body, key = sessionStorage.getItem(KEY_ITEM) } = {}) {
  const headers = { Authorization: `Bearer ${key}`, Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'The service could not be reached. Check your connection and try again.');
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data?.message ?? response.statusText);
  return data;
}

// describe turns a failed call into a sentence for a person.
function describe(err) {
  if (!(err instanceof ApiError)) {
    console.error(err);
    return 'Something went wrong in this page. Reload it and try again.';
  }
  if (err.status === 403) return 'Your key is not allowed to do this: it needs the approver role.';
  if (err.status === 404) return 'This change does not exist, or it belongs to another organisation.';
  if (err.status >= 500) return 'The service had a problem and could not answer. Try again in a moment.';
  return err.message;
}

// ---- Small helpers --------------------------------------------------------

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value);
  }
  node.append(...children.flat().filter((c) => c !== undefined && c !== null && c !== false));
  return node;
}

function say(node, text, tone = 'info') {
  node.textContent = text;
  node.dataset.tone = text ? tone : '';
}

function setBusy(form, busy) {
  form.setAttribute('aria-busy', String(busy));
  for (const button of form.querySelectorAll('button')) button.disabled = busy;
}

// money shows integer minor units in the currency's own number of decimals.
function money(minor, currency, signDisplay = 'auto') {
  const format = new Intl.NumberFormat(undefined, { style: 'currency', currency, currencyDisplay: 'code', signDisplay });
  return format.format(minor / 10 ** format.resolvedOptions().maximumFractionDigits);
}

// Business dates are calendar days, so they are shown in UTC to stay the same day everywhere.
function day(iso) {
  return new Date(`${iso}T00:00:00Z`).toLocaleDateString(undefined, { dateStyle: 'medium', timeZone: 'UTC' });
}

// lastDay turns an exclusive period end into the last day it includes.
function lastDay(iso) {
  const end = new Date(`${iso}T00:00:00Z`);
  end.setUTCDate(end.getUTCDate() - 1);
  return end.toISOString().slice(0, 10);
}

function moment(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

function age(seconds) {
  const s = Math.max(0, seconds);
  for (const [unit, size] of [['day', 86400], ['hour', 3600], ['minute', 60]]) {
    if (s >= size) return relative.format(-Math.floor(s / size), unit);
  }
  return relative.format(0, 'second');
}

const actionLabel = (action) => ACTIONS[action] ?? action;
const statusLabel = (status) => STATUSES[status] ?? status;

// ---- Routing ---------------------------------------------------------------

const VIEWS = ['sign-in-view', 'inbox-view', 'detail-view'];

function showView(id, title) {
  for (const view of VIEWS) $(view).hidden = view !== id;
  $('account').hidden = id === 'sign-in-view';
  document.title = `${title} · contractd approvals`;
}

function route() {
  stopRefresh();
  if (!sessionStorage.getItem(KEY_ITEM)) {
    showSignIn();
    return;
  }
  const match = /^#\/amendments\/([^/]+)$/.exec(location.hash);
  if (match) openDetail(decodeURIComponent(match[1]));
  else openInbox();
}

// ---- Sign in and out ----------------------------------------------------------

function showSignIn(message = '', tone = 'info') {
  showView('sign-in-view', 'Sign in');
  say($('sign-in-message'), message, tone);
  $('key').focus();
}

function signOut(message, tone) {
  sessionStorage.removeItem(KEY_ITEM);
  names = null;
  inbox = { items: [], more: false };
  $('inbox-rows').replaceChildren();
  $('inbox-table').hidden = true;
  $('inbox-summary').textContent = '';
  history.replaceState(null, '', '#/');
  stopRefresh();
  showSignIn(message, tone);
}

// An unknown key anywhere means the session is over.
function endSessionIfUnauthorized(err) {
  if (err instanceof ApiError && err.status === 401) {
    signOut('Your key is no longer accepted. Sign in again.', 'error');
    return true;
  }
  return false;
}

async function signIn(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const key = $('key').value.trim();
  setBusy(form, true);
  say($('sign-in-message'), 'Checking your key…');
  try {
    // The inbox needs the approver role, so reading it is the check.
    await request('/api/approvals?pageSize=1', { key });
    sessionStorage.setItem(KEY_ITEM, key);
    form.reset();
    say($('sign-in-message'), '');
    route();
  } catch (err) {
    const text = {
      401: 'This key was not recognised. Check it and try again.',
      403: 'This key cannot approve changes. Ask your administrator for an approver key.',
    }[err.status] ?? describe(err);
    say($('sign-in-message'), text, 'error');
    $('key').focus();
  } finally {
    setBusy(form, false);
  }
}

// ---- Inbox -------------------------------------------------------------------

function stopRefresh() {
  clearTimeout(refreshTimer);
  refreshRound++;
}

async function openInbox() {
  showView('inbox-view', 'Inbox');
  await refreshInbox();
  if ($('inbox-view').hidden) return;
  const row = lastOpened && rowLink(lastOpened);
  (row || $('inbox-title')).focus();
}

const rowLink = (id) => $('inbox-rows').querySelector(`a[data-id="${CSS.escape(id)}"]`);

async function loadReviewItems() {
  const items = [];
  let token = '';
  do {
    const query = new URLSearchParams({ pageSize: PAGE_SIZE });
    if (token) query.set('pageToken', token);
    const page = await request(`/api/approvals?${query}`);
    items.push(...page.items);
    token = page.nextPageToken ?? '';
  } while (token && items.length < MAX_ITEMS);
  return { items, more: token !== '' };
}

async function refreshInbox() {
  stopRefresh();
  const round = refreshRound;
  try {
    const loaded = await loadReviewItems();
    if (round !== refreshRound) return;
    inbox = loaded;
    renderInbox();
    say($('inbox-message'), '');
    $('inbox-updated').textContent = `Updated at ${new Date().toLocaleTimeString()}`;
  } catch (err) {
    if (round !== refreshRound || endSessionIfUnauthorized(err)) return;
    say($('inbox-message'), `The inbox could not be refreshed. ${describe(err)}`, 'error');
  }
  refreshTimer = setTimeout(refreshInbox, REFRESH_MS);
}

function renderInbox() {
  const filter = $('action-filter').value;
  const items = filter ? inbox.items.filter((item) => item.action === filter) : inbox.items;
  // Rows are rebuilt on every refresh; keep the keyboard where it was.
  const focused = document.activeElement?.closest('#inbox-rows a')?.dataset.id;
  $('inbox-rows').replaceChildren(...items.map(inboxRow));
  $('inbox-table').hidden = items.length === 0;
  if (focused) rowLink(focused)?.focus();

  const summary = inboxSummary(items.length, filter);
  // A live region re-announces even identical text: only touch it on change.
  if ($('inbox-summary').textContent !== summary) $('inbox-summary').textContent = summary;
}

function inboxSummary(count, filter) {
  const total = inbox.items.length;
  const changes = total === 1 ? '1 change' : `${total} changes`;
  let text;
  if (total === 0) text = 'Nothing is waiting for your decision.';
  else if (filter) text = `Showing ${count} of ${changes} awaiting review: ${actionLabel(filter)} only.`;
  else text = `${changes} awaiting review, oldest first.`;
  return inbox.more ? `${text} Only the oldest ${total} are listed.` : text;
}

function inboxRow(item) {
  const q = item.quote;
  const cell = (label, ...content) => h('td', { 'data-label': label }, ...content);
  return h('tr', {},
    h('th', { scope: 'row', 'data-label': 'Contract', class: 'nowrap' },
      h('a', { href: `#/amendments/${encodeURIComponent(item.id)}`, 'data-id': item.id }, item.contractNumber)),
    h('td', { 'data-label': 'Account', class: 'nowrap' }, item.accountNumber),
    cell('Action', actionLabel(item.action)),
    h('td', { 'data-label': 'Recurring change per period', class: 'num' },
      h('span', { class: 'delta' }, money(q.recurringDelta, q.currency, 'exceptZero')),
      h('span', { class: 'muted small block' }, `${money(q.recurringBefore, q.currency)} → ${money(q.recurringAfter, q.currency)}`)),
    h('td', { 'data-label': 'Proration', class: 'num' }, money(q.prorationTotal, q.currency, 'exceptZero')),
    cell('Rule', item.matchedRule?.name ?? '—'),
    cell('Submitted by', actorLabel(item.submittedBy, item.submittedByName)),
    cell('Source', item.source),
    cell('Age', h('time', { datetime: item.createdOn }, age(item.ageSeconds))),
  );
}

// ---- Detail --------------------------------------------------------------------

function catalogNames() {
  names ??= request('/api/catalog').then(
    (catalog) => {
      const rates = (catalog.offerings ?? []).flatMap((o) => o.rates ?? []);
      return {
        offerings: new Map((catalog.offerings ?? []).map((o) => [o.id, o.name])),
        products: new Map((catalog.products ?? []).map((p) => [p.id, p.name])),
        rates: new Map(rates.map((r) => [r.id, `${PERIODS[r.billingPeriod] ?? r.billingPeriod}, ${r.currency}`])),
      };
    },
    () => {
      names = null;
      return { offerings: new Map(), products: new Map(), rates: new Map() };
    },
  );
  return names;
}

async function openDetail(id) {
  showView('detail-view', 'Change');
  lastOpened = id;
  shown = null;
  $('detail-title').textContent = 'Loading…';
  $('detail-body').replaceChildren();
  $('decision').hidden = true;
  $('comment').value = '';
  say($('detail-message'), '');
  say($('decision-message'), '');
  const hash = location.hash;
  try {
    const [amendment, catalog] = await Promise.all([
      request(`/api/amendments/${encodeURIComponent(id)}`),
      catalogNames(),
    ]);
    if (location.hash !== hash) return;
    renderDetail(amendment, catalog);
  } catch (err) {
    if (location.hash !== hash || endSessionIfUnauthorized(err)) return;
    $('detail-title').textContent = 'Change not available';
    say($('detail-message'), describe(err), 'error');
  }
  $('detail-title').focus();
}

function renderDetail(am, catalog) {
  shown = am;
  const q = am.quote;
  $('detail-title').textContent = `${actionLabel(am.action)} of contract ${am.contractNumber}`;
  document.title = `${$('detail-title').textContent} · contractd approvals`;
  const parts = [
    facts(am),
    section('Contract lines', linesComparison(q, catalog)),
    timelineSection(am),
    section('Proration', proration(q)),
    section('Invoice preview', invoicePreview(q)),
    q.terminationFee && section('Early-termination fee', terminationFee(q.terminationFee)),
    section('History', historyList(am.history ?? [])),
  ];
  $('detail-body').replaceChildren(...parts.filter(Boolean));
  const open = am.status === 'REVIEW';
  $('decision').hidden = false;
  $('decision-form').hidden = !open;
  say($('decision-message'), open ? '' : closedText(am), am.status === 'EXPIRED' ? 'error' : 'info');
}

function section(title, ...content) {
  const id = `section-${title.toLowerCase().replace(/[^a-z]+/g, '-')}`;
  return h('section', { 'aria-labelledby': id }, h('h2', { id }, title), ...content);
}

function facts(am) {
  const q = am.quote;
  const row = (term, ...value) => [h('dt', {}, term), h('dd', {}, ...value)];
  return h('dl', { class: 'facts' },
    row('Status', h('span', { class: 'badge', 'data-status': am.status }, statusLabel(am.status))),
    row('Effective', day(q.effectiveDate)),
    row('Recurring per period',
      `${money(q.recurringBefore, q.currency)} → ${money(q.recurringAfter, q.currency)} `,
      h('span', { class: 'delta' }, `(${money(q.recurringDelta, q.currency, 'exceptZero')})`)),
    row('Held by rule', am.matchedRule?.name ?? '—'),
    row('Submitted by', actorLabel(am.submittedBy, am.submittedByName), ` (${am.source})`),
    row('Submitted', h('time', { datetime: am.createdOn }, moment(am.createdOn))),
  );
}

// table wraps a table in a region that scrolls sideways when a screen is too
// narrow; the region takes focus so that it scrolls by keyboard too.
function table(caption, headings, ...bodies) {
  return h('div', { class: 'scroll', role: 'region', tabindex: '0', 'aria-label': caption },
    h('table', {},
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, headings.map(([text, cls]) => h('th', { scope: 'col', class: cls }, text)))),
      ...bodies));
}

// linesComparison sets the contract's lines before and after side by side,
// one row group per offering, marking every value that differs.
function linesComparison(q, catalog) {
  const before = q.linesBefore ?? [];
  const after = q.linesAfter ?? [];
  const offerings = [...new Set([...before, ...after].map((l) => l.offeringId))];
  const groups = offerings.map((id) => {
    const was = before.find((l) => l.offeringId === id);
    const now = after.find((l) => l.offeringId === id);
    const products = [...new Set([...(was?.products ?? []), ...(now?.products ?? [])].map((p) => p.productId))];
    const quantity = (line, productId) => line?.products.find((p) => p.productId === productId)?.quantity;
    const rate = (line) => line && (catalog.rates.get(line.rateId) ?? line.rateId);
    const amount = (line) => line && money(line.recurringAmount, q.currency);
    const tag = !was ? 'Added' : !now ? 'Removed' : '';
    return h('tbody', {},
      h('tr', { class: 'group' },
        h('th', { scope: 'rowgroup', colspan: 3 }, catalog.offerings.get(id) ?? id, tag && h('span', { class: 'tag' }, tag))),
      compareRow('Rate', rate(was), rate(now)),
      products.map((p) => compareRow(catalog.products.get(p) ?? p, quantity(was, p), quantity(now, p))),
      compareRow('Recurring amount', amount(was), amount(now)));
  });
  return [
    h('p', { class: 'muted' }, 'Values that change are highlighted: the old one struck through, the new one in bold.'),
    table('Contract lines before and after the change', [['Item'], ['Before', 'num'], ['After', 'num']],
      ...groups,
      h('tfoot', {}, compareRow('Total per period', money(q.recurringBefore, q.currency), money(q.recurringAfter, q.currency)))),
  ];
}

function compareRow(label, before, after) {
  const changed = before !== after;
  const value = (v, mark) => (v === undefined ? '—' : changed ? h(mark, {}, v) : v);
  return h('tr', { class: changed ? 'changed' : undefined },
    h('th', { scope: 'row' }, label),
    h('td', { class: 'num' }, value(before, 'del')),
    h('td', { class: 'num' }, value(after, 'ins')));
}

// timelineSection sets the contract's pending changes beside the amendment,
// in the order they will apply, this one marked: each is priced on the
// contract as the ones before it leave it. It fills in when the timeline
// arrives; without it the change can still be decided on its own quote.
function timelineSection(am) {
  const status = h('p', { class: 'muted' }, 'Loading the contract\'s timeline…');
  const node = section('Contract timeline', status);
  request(`/api/contracts/${encodeURIComponent(am.contractId)}/timeline`).then(
    (tl) => { if (shown === am) status.replaceWith(...timelineTable(tl, am)); },
    () => say(status, 'The contract\'s timeline could not be read. The quote above is still the one you decide on.'),
  );
  return node;
}

function timelineTable(tl, am) {
  const currency = am.quote.currency;
  const row = (when, label, status, terms, note, mine) => h('tr', { class: mine ? 'this-change' : undefined },
    h('th', { scope: 'row', class: 'nowrap' }, when),
    h('td', {}, label),
    h('td', {}, status),
    h('td', { class: 'num' }, money(terms.recurringAmount, currency)),
    h('td', {}, note));
  const note = (p) => [
    p.amendmentId === am.id && 'This change',
    !p.inProjection && 'Not counted in the changes after it until approved',
  ].filter(Boolean).join('. ') || '—';
  return [
    h('p', { class: 'muted' }, tl.phases.length
      ? 'Each pending change is priced on the contract as the changes before it leave it; a later one can re-price this quote.'
      : 'No changes are pending on this contract.'),
    table(`Contract ${tl.contractNumber}: now and its pending changes, in the order they will apply`,
      [['Date'], ['Change'], ['Status'], ['Recurring per period after', 'num'], ['Note']],
      h('tbody', {},
        row('Now', 'Current terms', `Version ${tl.current.version}`, tl.current, '—', false),
        tl.phases.map((p) => row(day(p.effectiveDate), actionLabel(p.action), statusLabel(p.status), p.after, note(p),
          p.amendmentId === am.id)))),
  ];
}

function proration(q) {
  if (!q.proration?.length) return h('p', {}, 'Nothing is charged or credited for the current billing period.');
  const rows = q.proration.map((p) => h('tr', {},
    h('th', { scope: 'row' }, p.description, h('span', { class: 'muted small block' }, `${p.days} of ${p.periodDays} days`)),
    h('td', { class: 'num' }, money(p.recurringDelta, q.currency, 'exceptZero')),
    h('td', { class: 'num' }, money(p.amount, q.currency, 'exceptZero'))));
  return table(`Current billing period: ${day(q.currentPeriod.start)} to ${day(lastDay(q.currentPeriod.end))}`,
    [['Line'], ['Change per period', 'num'], ['Amount', 'num']],
    h('tbody', {}, rows),
    h('tfoot', {}, h('tr', {},
      h('th', { scope: 'row', colspan: 2 }, 'Total'),
      h('td', { class: 'num' }, money(q.prorationTotal, q.currency, 'exceptZero')))));
}

function invoicePreview(q) {
  const inv = q.invoicePreview;
  if (!inv) return h('p', {}, 'Applying this change issues no invoice.');
  return table(`Invoice for ${day(inv.period.start)} to ${day(lastDay(inv.period.end))}`,
    [['Line'], ['Amount', 'num']],
    h('tbody', {}, inv.lines.map((l) => h('tr', {},
      h('th', { scope: 'row' }, l.description),
      h('td', { class: 'num' }, money(l.amount, inv.currency))))),
    h('tfoot', {}, h('tr', {},
      h('th', { scope: 'row' }, 'Total'),
      h('td', { class: 'num' }, money(inv.total, inv.currency)))));
}

function terminationFee(fee) {
  const months = fee.monthsRemaining === 1 ? '1 month' : `${fee.monthsRemaining} months`;
  return h('p', {}, h('strong', {}, money(fee.amount, fee.currency)),
    `, because the contract ends early with ${months} of its term remaining.`);
}

// actorLabel shows who acted: the display name of their key beside its
// uuid, which stays visible since names need not be unique; an actor that is
// no key (such as system) has no name and shows its id alone.
function actorLabel(id, name) {
  if (!name) return h('span', { class: 'actor' }, id);
  return h('span', { class: 'actor-named' }, h('span', { class: 'actor-name' }, name), ' ',
    h('span', { class: 'actor muted' }, id));
}

// actorText is actorLabel as plain text, for sentences.
function actorText(id, name) {
  return name ? `${name} (${id})` : id;
}

function historyList(events) {
  return h('ol', { class: 'history' }, events.map((ev) => h('li', {},
    h('strong', {}, statusLabel(ev.status)), ' · ',
    h('time', { datetime: ev.at }, moment(ev.at)), ' · by ',
    actorLabel(ev.actorId, ev.actorName), ` (${ev.source})`,
    ev.note && h('p', { class: 'note' }, ev.note))));
}

// closedText explains why an amendment no longer takes a decision.
function closedText(am) {
  const last = am.history?.at(-1);
  const when = last ? ` on ${moment(last.at)}` : '';
  switch (am.status) {
    case 'EXPIRED':
      return `This review expired${when} before anyone decided it, so the change was not applied. `
        + 'The submitter can send it again if it is still needed.';
    case 'WITHDRAWN':
      return `The submitter withdrew this change${when}; there is nothing left to decide.`;
    default:
      return `This change has already been decided: it is now ${statusLabel(am.status).toLowerCase()}`
        + `${last ? ` (by ${actorText(last.actorId, last.actorName)}${when})` : ''}. Nothing more is needed from you.`;
  }
}

function decidedText(am, verb) {
  if (verb === 'reject') return `Rejected. Contract ${am.contractNumber} stays as it was.`;
  switch (am.status) {
    case 'APPLIED':
      return `Approved. The change has been applied to contract ${am.contractNumber}.`;
    case 'SCHEDULED':
      return `Approved. The change will apply on ${day(am.effectiveDate)}.`;
    default:
      return `Approved. The change is now ${statusLabel(am.status).toLowerCase()}.`;
  }
}

// refusalText explains a decision the service did not take. A conflict means
// the amendment left REVIEW meanwhile, so it is read again to say why.
async function refusalText(err, am) {
  if (err.status === 403 && /four-eyes/i.test(err.message)) {
    return 'You submitted this change yourself, so you cannot approve or reject it: '
      + 'the four-eyes rule needs a second person. Ask another approver to decide it.';
  }
  if (err.status === 0 || err.status >= 500) {
    return 'Your decision could not be confirmed: the service did not answer. '
      + 'Reload this change to see whether it was recorded before deciding again.';
  }
  if (err.status !== 409) return `Your decision was not recorded. ${describe(err)}`;
  try {
    const fresh = await request(`/api/amendments/${encodeURIComponent(am.id)}`);
    renderDetail(fresh, await catalogNames());
    if (fresh.status === 'REVIEW' && fresh.quoteVersion !== am.quoteVersion) {
      return 'Your approval was not recorded: this change was re-priced after you opened it, because an earlier '
        + 'change on the contract moved. Its new quote is shown above; review it and decide again.';
    }
    if (fresh.status === 'REVIEW') return 'The change could not take your decision just now. Try again in a moment.';
    return `Your decision was not recorded. ${closedText(fresh)}`;
  } catch {
    return 'Your decision was not recorded: this change is no longer awaiting review. Reload the page to see where it stands.';
  }
}

async function decide(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const verb = event.submitter?.value;
  const am = shown;
  if (!am || !verb) return;
  const message = $('decision-message');
  setBusy(form, true);
  say(message, verb === 'approve' ? 'Sending your approval…' : 'Sending your rejection…');
  try {
    const decided = await request(`/api/amendments/${encodeURIComponent(am.id)}/${verb}`, {
      method: 'POST',
      // An approval names the quote it was given on: if a change before this
      // one re-priced it meanwhile, the service refuses it (409) rather than
      // approve a quote nobody saw.
      body: verb === 'approve'
        ? { comment: $('comment').value.trim(), quoteVersion: am.quoteVersion }
        : { comment: $('comment').value.trim() },
    });
    renderDetail(decided, await catalogNames());
    say(message, decidedText(decided, verb), 'success');
  } catch (err) {
    if (endSessionIfUnauthorized(err)) return;
    say(message, await refusalText(err, am), 'error');
  } finally {
    setBusy(form, false);
  }
  // The pressed button was disabled while waiting, which drops focus: put it on the outcome.
  message.focus();
}

// ---- Start -----------------------------------------------------------------------

for (const [value, label] of Object.entries(ACTIONS)) {
  $('action-filter').append(h('option', { value }, label));
}
$('action-filter').addEventListener('change', renderInbox);
$('refresh').addEventListener('click', refreshInbox);
$('sign-in-form').addEventListener('submit', signIn);
$('decision-form').addEventListener('submit', decide);
$('sign-out').addEventListener('click', () => signOut('You have signed out.'));
window.addEventListener('hashchange', route);
route();
