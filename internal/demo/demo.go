// Package demo defines the demo tenant `contractd dev` seeds so the README's
// curl examples work at once. Its keys are fixed and public: dev only.
package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/contractd/contractd/internal/auth"
	"github.com/contractd/contractd/internal/domain"
	"github.com/contractd/contractd/internal/store"
)

// The demo tenant and its keys, documented in the README.
const (
	TenantID     = "00000000-0000-4000-8000-00000000d340"
	Prefix       = "DEMO"
	SubmitterKey = "demo-submitter-key"
	ApproverKey  = "demo-approver-key"
	OperatorKey  = "demo-operator-key"
)

// Keys lists the demo keys with their fixed actor ids and display names, one
// role each.
func Keys() []store.NewKey {
	return []store.NewKey{
		{Key: SubmitterKey, ActorID: "00000000-0000-4000-8000-0000000000a1", Roles: []auth.Role{auth.RoleSubmitter}, DisplayName: "Demo submitter"},
		{Key: ApproverKey, ActorID: "00000000-0000-4000-8000-0000000000a2", Roles: []auth.Role{auth.RoleApprover}, DisplayName: "Demo approver"},
		{Key: OperatorKey, ActorID: "00000000-0000-4000-8000-0000000000a3", Roles: []auth.Role{auth.RoleOperator}, DisplayName: "Demo operator"},
	}
}

// Seed creates the demo tenant, its keys and, if it has none, its catalog,
// stamped with the business time now.
func Seed(ctx context.Context, s *store.Store, now time.Time) error {
	// The demo tenant is a sandbox, so the README's test clock walkthrough
	// works with its keys: Seed runs only for `contractd dev`.
	t, err := s.EnsureTenant(ctx, store.Tenant{ID: TenantID, Prefix: Prefix, Name: "Demo Subscriptions Ltd", Sandbox: true}, Keys())
	if err != nil {
		return fmt.Errorf("seed demo tenant: %w", err)
	}
	has, err := s.HasCatalog(ctx, t.ID)
	if err != nil || has {
		return err
	}
	cat := Catalog()
	if err := cat.Validate(); err != nil {
		return fmt.Errorf("demo catalog: %w", err)
	}
	_, err = s.PutCatalog(ctx, t.ID, Keys()[2].ActorID, cat, now) // a new tenant has no amendments to re-price
	return err
}

func upTo(n int64) *int64 { return &n }

// Catalog is a small SaaS-and-TV catalog exercising every feature.
func Catalog() domain.Catalog {
	return domain.Catalog{
		Products: []domain.Product{
			{ID: "prod_seat", Name: "User seat"},
			{ID: "prod_storage", Name: "Storage (TB)"},
			{ID: "prod_sports", Name: "Sports channels"},
		},
		Offerings: []domain.Offering{
			{
				ID: "off_team", Name: "Team",
				Products: []domain.OfferingProduct{
					{ProductID: "prod_seat", MinQuantity: 1, MaxQuantity: upTo(50)},
					{ProductID: "prod_storage", MinQuantity: 0, MaxQuantity: upTo(10)},
				},
				Rates: []domain.Rate{
					{ID: "rate_team_monthly_usd", Currency: "USD", BillingPeriod: domain.Monthly, UnitPrices: map[string]int64{"prod_seat": 1500, "prod_storage": 500}},
					{ID: "rate_team_annual_usd", Currency: "USD", BillingPeriod: domain.Annual, UnitPrices: map[string]int64{"prod_seat": 15000, "prod_storage": 5000}},
					{ID: "rate_team_monthly_eur", Currency: "EUR", BillingPeriod: domain.Monthly, UnitPrices: map[string]int64{"prod_seat": 1400, "prod_storage": 450}},
				},
			},
			{
				ID: "off_business", Name: "Business",
				Products: []domain.OfferingProduct{
					{ProductID: "prod_seat", MinQuantity: 5, MaxQuantity: upTo(1000)},
					{ProductID: "prod_storage", MinQuantity: 1, MaxQuantity: upTo(100)},
				},
				Rates: []domain.Rate{
					{ID: "rate_business_monthly_usd", Currency: "USD", BillingPeriod: domain.Monthly, UnitPrices: map[string]int64{"prod_seat": 3000, "prod_storage": 400}},
					{ID: "rate_business_quarterly_usd", Currency: "USD", BillingPeriod: domain.Quarterly, UnitPrices: map[string]int64{"prod_seat": 8500, "prod_storage": 1100}},
				},
			},
			{
				ID: "off_sports", Name: "Sports Pack",
				Products: []domain.OfferingProduct{{ProductID: "prod_sports", MinQuantity: 1, MaxQuantity: upTo(1)}},
				Rates: []domain.Rate{
					{ID: "rate_sports_monthly_usd", Currency: "USD", BillingPeriod: domain.Monthly, UnitPrices: map[string]int64{"prod_sports": 1999}},
				},
			},
		},
		SalesItems: []domain.SalesItem{
			{Code: "TEAM-M", OfferingID: "off_team", RateID: "rate_team_monthly_usd"},
			{Code: "TEAM-A", OfferingID: "off_team", RateID: "rate_team_annual_usd"},
			{Code: "BUSINESS-M", OfferingID: "off_business", RateID: "rate_business_monthly_usd"},
			{Code: "BUSINESS-Q", OfferingID: "off_business", RateID: "rate_business_quarterly_usd"},
			{Code: "SPORTS-M", OfferingID: "off_sports", RateID: "rate_sports_monthly_usd", RequiresViewingCard: true},
		},
		CrossgradePaths: []domain.CrossgradePath{
			{From: "TEAM-M", To: "BUSINESS-M"},
			{From: "BUSINESS-M", To: "TEAM-M"},
			{From: "TEAM-M", To: "TEAM-A"},
			{From: "BUSINESS-M", To: "BUSINESS-Q"},
			{From: "TEAM-M", To: "SPORTS-M"},
		},
		DiscountCodes: []domain.DiscountCode{
			{Code: "WELCOME10", PercentOff: 10, AppliesTo: []string{"BUSINESS-M", "BUSINESS-Q"}, Cycles: 3},
		},
		ViewingCards: []domain.ViewingCard{
			{Number: "4111111111111111", Currency: "USD"},
			{Number: "79927398713", Currency: "USD"},
			{Number: "5555555555554444", Currency: "EUR"},
		},
		PenaltyServices: []domain.PenaltyService{{ID: 1, Name: "Early termination"}},
	}
}
