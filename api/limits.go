package api

import (
	"fmt"
	"math"
	"reflect"
	"regexp"

	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/termination"
)

// Every request body, path segment, query parameter and header the API reads
// has a bound here: one table, enforced when the request is decoded (see
// checkBody and checkRequest) and rendered into the README's input-limits
// section, which TestInputLimitsTableIsTheREADMEs keeps equal to it.
//
// Body fields are named by JSON path: "a.b" is field b of object a, "a[]"
// an item of list a, "a{}" a value of map a.

// Ceilings shared by several fields. Quantities and money are bounded where
// they enter, so no sum or product of them in the domain comes near int64's
// range; the domain's own checks still apply below these.
const (
	// The highest ceilings a tenant may set (domain.Limits); each
	// tenant's own, lower ones are checked by the domain.
	maxQuantity = domain.HardMaxQuantity // seats, units: 10^12
	maxMoney    = domain.HardMaxAmount   // minor units: 10^16
	maxID       = 64                     // ids, codes, numbers
	maxName     = 200                    // display names
	maxComment  = 1000                   // free text kept in a history
	maxURL      = 2048
	maxDBID     = math.MaxInt64 // database identities (bigserial)
	// maxQuoteVersion bounds a quote version an approver names: far above
	// the re-pricings an amendment can see.
	maxQuoteVersion = 1 << 40
	// maxIdempotencyKey keeps a key, with the namespace it is stored under,
	// well inside Postgres's index row limit (about 2.7 kB).
	maxIdempotencyKey = 255
)

// limitKind is what a field holds.
type limitKind string

const (
	kindText    limitKind = "string"
	kindInteger limitKind = "integer"
	kindBool    limitKind = "boolean"
	kindDate    limitKind = "date"
	// kindDateTime is an RFC 3339 date-time: a test clock's time.
	kindDateTime limitKind = "date-time"
	kindList     limitKind = "list"
	kindMap      limitKind = "map"
	kindObject   limitKind = "object"
	// kindRefused is a field the type has but the surface does not accept.
	kindRefused limitKind = "refused"
)

// limit bounds one field. Every text is valid UTF-8 without NUL; an
// identifier (format non-empty or ident) has no control characters at all.
type limit struct {
	Kind     limitKind
	MaxLen   int   // text: characters; list: items; map: entries
	KeyLen   int   // map: characters of a key
	Min, Max int64 // integer
	Ident    bool  // text: no control characters
	// Total bounds a list inside another list: its items in all of them
	// together (a request's contracts across its actions).
	Total int
	// Lines: text with no control characters but tab and line breaks (a
	// comment's lines), where Ident would refuse those too.
	Lines  bool
	Format *regexp.Regexp
	// FormatName documents Format in the table and in refusals.
	FormatName string
	// Filled: an empty text is held to Format too, where elsewhere it
	// means "not given" (a flag sent without its value).
	Filled bool
	// Note documents a bound checked after decoding, by the domain.
	Note string
	// Instant: a date that takes an RFC 3339 date-time too (its UTC day), as a seed types it.
	Instant bool
}

func text(n int) limit  { return limit{Kind: kindText, MaxLen: n} }
func ident(n int) limit { return limit{Kind: kindText, MaxLen: n, Ident: true} }
func lines(n int) limit { return limit{Kind: kindText, MaxLen: n, Lines: true} }
func integer(min, max int64) limit {
	return limit{Kind: kindInteger, Min: min, Max: max}
}
func list(n int) limit                 { return limit{Kind: kindList, MaxLen: n} }
func mapOf(n, keyLen int) limit        { return limit{Kind: kindMap, MaxLen: n, KeyLen: keyLen} }
func noted(l limit, note string) limit { l.Note = note; return l }
func totalled(l limit, n int) limit    { l.Total = n; return l }
func pattern(n int, re, name string) limit {
	return limit{Kind: kindText, MaxLen: n, Ident: true, Format: regexp.MustCompile(re), FormatName: name}
}

var (
	boolean  = limit{Kind: kindBool}
	date     = limit{Kind: kindDate}
	instant  = limit{Kind: kindDate, Instant: true}
	dateTime = limit{Kind: kindDateTime}
	// uuidText is an id the service issued as a UUID.
	uuidText = pattern(36, `^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`, "a UUID")
	object   = limit{Kind: kindObject}
	refused  = limit{Kind: kindRefused}
	currency = noted(ident(8), "an ISO 4217 code (checked by the domain)")
	// paymentMethod is a payment provider's token for the customer's method.
	paymentMethod = pattern(maxID, `^[A-Za-z0-9_-]+$`, "letters, digits, _ and -")
	quantity      = integer(0, maxQuantity)
	money         = integer(0, maxMoney)
	// In a catalog or termination document, whose validation lists every
	// problem at once, decoding bounds only the magnitude; the sign is one
	// of the problems the domain lists.
	signedQuantity = integer(-maxQuantity, maxQuantity)
	signedMoney    = integer(-maxMoney, maxMoney)
	// viewingCard is a card number as sent; its digits and check digit are
	// the domain's to refuse, with the crossgrade seed's own fault.
	viewingCard = ident(32)
	dbID        = integer(1, maxDBID)
)

// Dates and date-times outside these years are refused as dates: 0001-01-01 is Go's zero
// date (read as "not given" before) and 9999-12-31 a placeholder for "never".
// Each field's business bounds (how far back a contract may start, how long
// a term may be) are narrower and checked by the domain.
const (
	minDateYear = 1900
	maxDateYear = domain.MaxDateYear
)

// bodySchema is one request body type's fields and their limits.
type bodySchema struct {
	Surface string
	Type    reflect.Type
	Fields  map[string]limit
}

func body[T any](surface string, fields map[string]limit) bodySchema {
	return bodySchema{Surface: surface, Type: reflect.TypeFor[T](), Fields: fields}
}

var terminationFieldLimits = map[string]limit{"penaltyServiceId": dbID, "name": text(maxName)}

// terminationReadOnlyLimits bound what a client may send back from a read
// (ignored, but still bounded like any input).
var terminationReadOnlyLimits = map[string]limit{"identity": dbID, "penaltyServiceName": text(maxName), "details": object}

var chargeFieldLimits = map[string]limit{
	"startMonth": integer(-1200, 1200), "endMonth": integer(-1200, 1200), "amount": signedMoney, "currency": currency,
}

var patchHeaderLimits = map[string]limit{
	"patchType": ident(16), "patchClientId": dbID, "identity": dbID,
}

// bodySchemas lists every request body the API decodes.
var bodySchemas = []bodySchema{
	body[contractActionsRequest]("contract-actions: POST /api/contract-actions", merge(map[string]limit{
		"accountNumber":                      noted(ident(maxID), newAccountNumberNote),
		"testClockId":                        noted(uuidText, "a test clock of the (sandbox) tenant, not deleted, carrying fewer than 100 contracts; the contracts live on its time (on one advancing, within the rest of its advance's work)"),
		"actions":                            list(100),
		"actions[]":                          object,
		"actions[].type":                     ident(maxID),
		"actions[].createContractWithPlan":   actionContracts,
		"actions[].createContractWithPlan[]": object,
		"actions[].createContractWithPlan[].planId":                ident(maxID),
		"actions[].createContractWithPlan[].effectiveDate":         noted(date, "from 5 years before today to 1 year after"),
		"actions[].createContractWithPlan[].expirationDate":        noted(date, fmt.Sprintf("after effectiveDate, a term of at most 10 years; on AUTO_RENEW terms, at most %d renewals at once to reach today, %d in all a request (422 beyond)", domain.MaxCatchUpRenewals, domain.MaxCatchUpRenewalsPerRequest)),
		"actions[].createContractWithPlan[].currency":              list(10),
		"actions[].createContractWithPlan[].currency[]":            currency,
		"actions[].createContractWithPlan[].rateId":                ident(maxID),
		"actions[].createContractWithPlan[].quantities":            mapOf(100, maxID),
		"actions[].createContractWithPlan[].quantities{}":          quantity,
		"actions[].createContractWithPlan[].billingCycleDay":       integer(0, 31),
		"actions[].createContractWithPlan[].paymentMethod":         paymentMethod,
		"actions[].createContractWithPlan[].viewingCardNumber":     viewingCard,
		"actions[].createContractWithPlan[].protected":             boolean,
		"actions[].createContractWithPlan[].contractTerminationId": dbID,
		"actions[].createContractWithPlan[].renewal":               noted(object, "omitted: the tenant's default (catalog renewal), else EXPIRE"),
	}, prefixed("actions[].createContractWithPlan[].renewal.", contractRenewalLimits))),
	body[domain.Change]("self-service: POST /api/selfService/contract", merge(map[string]limit{
		"action":                                   ident(32),
		"contractId":                               ident(maxID),
		"effectiveDate":                            noted(instant, "from today to before the contract's expiration"),
		"relativeEffectiveDate":                    ident(32),
		"payload":                                  object,
		"payload.offerings":                        list(100),
		"payload.offerings[]":                      object,
		"payload.offerings[].offeringId":           ident(maxID),
		"payload.offerings[].rateId":               ident(maxID),
		"payload.offerings[].newOfferingId":        ident(maxID),
		"payload.offerings[].products":             list(100),
		"payload.offerings[].products[]":           object,
		"payload.offerings[].products[].productId": ident(maxID),
		"payload.offerings[].products[].quantity":  quantity,
		"requireApproval":                          boolean,
		"crossgrade":                               refused,
		"modeOnly":                                 refused,
		"renewal":                                  noted(object, "RENEWAL_TERMS_CHANGE only"),
	}, prefixed("renewal.", contractRenewalLimits))),
	body[crossgradeRequest]("crossgrade: POST /api/customers/{customerId}/contracts/{contractRef}/crossgrade", map[string]limit{
		"salesItemCode":        ident(maxID),
		"referrer":             text(maxName), // the domain's own limit (50) is a 90063 in the seed's fault order
		"discountCode":         object,
		"discountCode.code":    ident(maxID),
		"downgradeImmediately": boolean,
		"viewingCardNumber":    viewingCard,
	}),
	body[terminationInstance]("termination v5: POST /api/v5/Contract/Termination", merge(terminationFieldLimits, terminationReadOnlyLimits)),
	body[terminationInstance]("termination v5: PUT /api/v5/Contract/Termination/{id}", merge(terminationFieldLimits, terminationReadOnlyLimits)),
	body[termination.Patch]("termination v5: PATCH /api/v5/Contract/Termination/{id}", merge(
		map[string]limit{
			"details":                                  object,
			"contractTerminations":                     object,
			"contractTerminations.items":               list(100),
			"contractTerminations.items[]":             object,
			"contractTerminationPeriodCharges":         object,
			"contractTerminationPeriodCharges.items":   list(100),
			"contractTerminationPeriodCharges.items[]": object,
		},
		prefixed("contractTerminations.items[].", patchHeaderLimits, terminationFieldLimits),
		map[string]limit{"contractTerminations.items[].penaltyServiceName": text(maxName)},
		prefixed("contractTerminationPeriodCharges.items[].", patchHeaderLimits, chargeFieldLimits),
	)),
	body[domain.Catalog]("catalog: PUT /api/catalog", merge(map[string]limit{
		"products":                                  list(1000),
		"products[]":                                object,
		"products[].id":                             ident(maxID),
		"products[].name":                           text(maxName),
		"offerings":                                 list(1000),
		"offerings[]":                               object,
		"offerings[].id":                            ident(maxID),
		"offerings[].name":                          text(maxName),
		"offerings[].products":                      list(100),
		"offerings[].products[]":                    object,
		"offerings[].products[].productId":          ident(maxID),
		"offerings[].products[].minQuantity":        signedQuantity,
		"offerings[].products[].maxQuantity":        signedQuantity,
		"offerings[].rates":                         list(100),
		"offerings[].rates[]":                       object,
		"offerings[].rates[].id":                    ident(maxID),
		"offerings[].rates[].currency":              currency,
		"offerings[].rates[].billingPeriod":         ident(16),
		"offerings[].rates[].unitPrices":            mapOf(100, maxID),
		"offerings[].rates[].unitPrices{}":          signedMoney,
		"offerings[].contractTerminationId":         dbID,
		"salesItems":                                list(10_000),
		"salesItems[]":                              object,
		"salesItems[].code":                         ident(maxID),
		"salesItems[].offeringId":                   ident(maxID),
		"salesItems[].rateId":                       ident(maxID),
		"salesItems[].requiresViewingCard":          boolean,
		"crossgradePaths":                           list(10_000),
		"crossgradePaths[]":                         object,
		"crossgradePaths[].from":                    ident(maxID),
		"crossgradePaths[].to":                      ident(maxID),
		"discountCodes":                             list(10_000),
		"discountCodes[]":                           object,
		"discountCodes[].code":                      ident(maxID),
		"discountCodes[].percentOff":                integer(-100, 100),
		"discountCodes[].appliesTo":                 list(10_000),
		"discountCodes[].appliesTo[]":               ident(maxID),
		"discountCodes[].cycles":                    integer(-1200, 1200),
		"discountCodes[].maxRedemptions":            integer(-maxQuantity, maxQuantity),
		"discountCodes[].maxRedemptionsPerContract": integer(-maxQuantity, maxQuantity),
		"limits":                  object,
		"limits.maxQuantity":      signedQuantity,
		"limits.maxAmount":        signedMoney,
		"viewingCards":            list(50_000),
		"viewingCards[]":          object,
		"viewingCards[].number":   pattern(16, `^[0-9]+$`, "digits"),
		"viewingCards[].currency": currency,
		"penaltyServices":         list(1000),
		"penaltyServices[]":       object,
		"penaltyServices[].id":    integer(-math.MaxInt32, math.MaxInt32),
		"penaltyServices[].name":  text(maxName),
		"renewal":                 noted(object, "the renewal terms of contracts created without any"),
	}, prefixed("renewal.", renewalTermsLimits))),
	body[approvalRules]("approval rules: PUT /api/approval-rules", map[string]limit{
		"rules":                list(100),
		"rules[]":              object,
		"rules[].id":           ident(maxID),
		"rules[].name":         text(maxName),
		"rules[].when":         text(4000),
		"rules[].expiresAfter": noted(ident(16), "a duration from 1s to 90d, as \"72h\" or \"7d\" (checked by the rule compiler)"),
	}),
	body[webhookRequest]("webhooks: POST /api/webhooks", map[string]limit{
		"url":         noted(text(maxURL), "https (http to loopback only with `WEBHOOK_ALLOW_INSECURE`), no credentials, a port from 1 to 65535 if any"),
		"events":      list(50),
		"events[]":    ident(maxID),
		"description": text(maxWebhookDescription),
	}),
	body[billingRunRequest]("billing: POST /api/billing/run", map[string]limit{"asOf": noted(date, "not after today; at most 12 periods per contract per run")}),
	body[testClockRequest]("test clocks: POST /api/test-clocks", map[string]limit{
		"name":       text(maxName),
		"frozenTime": noted(dateTime, "the clock's time to start with"),
	}),
	body[clockAdvanceRequest]("test clocks: POST /api/test-clocks/{id}/advance", map[string]limit{
		"to": noted(dateTime, fmt.Sprintf("not before the clock's time, at most 10 years after it, and as far as %d items of work for its contracts (422 beyond, with furthestTo), shared with the tenant's other advances under way (409 when they leave too little)", domain.MaxClockAdvanceWork)),
	}),
	body[decisionRequest]("decisions: POST /api/amendments/{id}/approve, /reject", map[string]limit{"comment": lines(maxComment), "quoteVersion": integer(1, maxQuoteVersion)}),
}

// merge joins field tables into a new one.
func merge(tables ...map[string]limit) map[string]limit {
	out := map[string]limit{}
	for _, t := range tables {
		for k, v := range t {
			out[k] = v
		}
	}
	return out
}

// prefixed joins field tables under a path prefix.
func prefixed(prefix string, tables ...map[string]limit) map[string]limit {
	out := map[string]limit{}
	for k, v := range merge(tables...) {
		out[prefix+k] = v
	}
	return out
}

// paramLimits bound the path segments routes name, by parameter name.
var paramLimits = map[string]limit{
	"id":            ident(maxID),
	"accountNumber": ident(maxID),
	"contractId":    ident(maxID),
	"customerId":    ident(maxID),
	"contractRef":   pattern(19, `^[0-9]+$`, "digits"),
	"deliveryId":    ident(maxID),
	"clientPrefix":  ident(32),
}

// queryLimits bound the query parameters the API reads; any other is held to queryDefault.
var queryLimits = map[string]limit{
	"pageSize":          pattern(4, `^[0-9]+$`, "digits"),
	"pageToken":         pattern(256, `^[A-Za-z0-9_-]+$`, "base64url"),
	"pageNumber":        pattern(19, `^[0-9]+$`, "digits"),
	"excludeTotalCount": ident(5),
	"accountNumber":     ident(maxID),
	"status":            ident(32),
	"type":              ident(maxID),
	"after":             pattern(19, `^[0-9]+$`, "digits"),
	"preview":           trueOrFalse,
	"asOf":              noted(date, "today or later (GET /api/contracts/{id})"),
	"comment":           lines(maxComment),
}

// queryDefault holds a query parameter the API does not read: a query
// string is a line of the request, and none of its values holds a control
// character.
var queryDefault = ident(maxComment)

// trueOrFalse is a query parameter's flag: a client that spells it
// otherwise (preview=1, or ?preview with no value) is told so, rather than
// taken to mean false and its change made.
var trueOrFalse = filled(pattern(5, `^(true|false)$`, "true or false"))

func filled(l limit) limit { l.Filled = true; return l }

// headerLimits bound the headers the API reads as data (keys and
// signatures are checked by authentication).
var headerLimits = map[string]limit{
	idempotencyHeader: ident(maxIdempotencyKey),
	traceHeader:       ident(128),
}

// thousands writes n with thousands separators, or as a power of two or ten
// where that reads better.
func thousands(n int64) string {
	switch n {
	case math.MaxInt64:
		return "2^63−1"
	case math.MaxInt32:
		return "2^31−1"
	case -math.MaxInt32:
		return "−(2^31−1)"
	}
	if n < 0 {
		return "−" + thousands(-n)
	}
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
