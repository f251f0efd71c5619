package api

import "github.com/contractd/contractd/internal/domain"

// renewalTermsLimits bound a contract's renewal terms where a request gives
// them. A number given is kept: 0, which stored terms hold for one left out
// (domain.RenewalTerms.WithDefaults), is refused rather than replaced.
var renewalTermsLimits = map[string]limit{
	"mode":              noted(ident(32), "AUTO_RENEW, EXPIRE or EVERGREEN"),
	"termMonths":        noted(integer(1, domain.MaxTermMonths), "omitted: 12"),
	"upliftBasisPoints": noted(integer(-domain.MaxUpliftBasis, domain.MaxUpliftBasis), "350 = 3.5 %"),
	"noticeDays":        noted(integer(1, domain.MaxNoticeDays), "omitted: 30; only AUTO_RENEW gives notice"),
}

// contractRenewalLimits are renewalTermsLimits in a contract's request,
// where a customer key's renewal is mode-only: the numbers it leaves out are
// the business's (the contract's on a terms change's date, a new contract's
// the tenant's default renewal's), not those a staff key's take.
var contractRenewalLimits = merge(renewalTermsLimits, map[string]limit{
	"termMonths":        noted(renewalTermsLimits["termMonths"], "omitted: 12, or from a customer key the business's"),
	"upliftBasisPoints": noted(renewalTermsLimits["upliftBasisPoints"], "350 = 3.5 %; omitted: 0, or from a customer key the business's"),
	"noticeDays":        noted(renewalTermsLimits["noticeDays"], "omitted: 30, or from a customer key the business's; only AUTO_RENEW gives notice"),
})
