package domain

import (
	"math"
)

// Default money ceilings. A tenant may set its own in the catalog's limits.
const (
	DefaultMaxQuantity int64 = 1_000_000_000         // units of one product on one line
	DefaultMaxAmount   int64 = 1_000_000_000_000_000 // minor units: any price, line, total or invoice
	// The most a tenant may configure: an amount at the ceiling times the
	// days of the longest period still fits in an int64.
	HardMaxQuantity int64 = 1_000_000_000_000
	HardMaxAmount   int64 = 10_000_000_000_000_000
)

// Limits are the ceilings every quantity and amount is checked against. Money
// is int64 minor units; every product and sum that prices a contract goes
// through Mul and Add, so an overflow or a breach is a refusal naming the
// field, never a wrapped amount.
type Limits struct {
	// MaxQuantity bounds a product's quantity on a line, whatever the
	// offering's own maxQuantity (which may be omitted).
	MaxQuantity int64 `json:"maxQuantity,omitempty"`
	// MaxAmount bounds the magnitude of every amount: unit prices, line and
	// contract totals, proration, fees and invoice totals.
	MaxAmount int64 `json:"maxAmount,omitempty"`
}

// OrDefaults fills unset ceilings with the defaults (a catalog that sets a
// negative one is refused by Validate).
func (l Limits) OrDefaults() Limits {
	if l.MaxQuantity <= 0 {
		l.MaxQuantity = DefaultMaxQuantity
	}
	if l.MaxAmount <= 0 {
		l.MaxAmount = DefaultMaxAmount
	}
	return l
}

// validate reports configured ceilings outside what the service accepts.
func (l Limits) validate(p *Problems) {
	if l.MaxQuantity < 0 || l.MaxQuantity > HardMaxQuantity {
		p.Addf("limits.maxQuantity must be between 1 and %d (omit it for the default %d)", HardMaxQuantity, DefaultMaxQuantity)
	}
	if l.MaxAmount < 0 || l.MaxAmount > HardMaxAmount {
		p.Addf("limits.maxAmount must be between 1 and %d (omit it for the default %d)", HardMaxAmount, DefaultMaxAmount)
	}
}

// MoneyLimitError is the refusal of an amount or quantity beyond a ceiling
// or beyond what int64 holds. Surfaces map it like any KindUnprocessable.
func MoneyLimitError(field, format string, args ...any) *Error {
	return Errorf(KindUnprocessable, field, format, args...)
}

// Quantity checks a quantity against the ceiling.
func (l Limits) Quantity(field string, q int64) error {
	if q > l.MaxQuantity {
		return MoneyLimitError(field, "%s: quantity %d is above the limit of %d", field, q, l.MaxQuantity)
	}
	return nil
}

// Amount checks an amount's magnitude against the ceiling.
func (l Limits) Amount(field string, a int64) error {
	if a > l.MaxAmount || a < -l.MaxAmount {
		return MoneyLimitError(field, "%s: amount %d is beyond the limit of %d minor units", field, a, l.MaxAmount)
	}
	return nil
}

// Mul multiplies two amounts (or an amount and a count), refusing an
// overflow or a result beyond the ceiling.
func (l Limits) Mul(field string, a, b int64) (int64, error) {
	r, ok := mulInt64(a, b)
	if !ok {
		return 0, MoneyLimitError(field, "%s: %d × %d is beyond the limit of %d minor units", field, a, b, l.MaxAmount)
	}
	return r, l.Amount(field, r)
}

// Add adds amounts, refusing an overflow or a result beyond the ceiling.
func (l Limits) Add(field string, amounts ...int64) (int64, error) {
	sum, err := Total(field, amounts...)
	if err != nil {
		return 0, MoneyLimitError(field, "%s: the sum is beyond the limit of %d minor units", field, l.MaxAmount)
	}
	return sum, l.Amount(field, sum)
}

// Total adds amounts that may together pass any ceiling, such as the
// invoices an account owes on: only a sum beyond what int64 holds is
// refused.
func Total(field string, amounts ...int64) (int64, error) {
	var sum int64
	for _, a := range amounts {
		r, ok := addInt64(sum, a)
		if !ok {
			return 0, MoneyLimitError(field, "%s: the sum is beyond %d minor units, the most an amount can hold", field, int64(math.MaxInt64))
		}
		sum = r
	}
	return sum, nil
}

func mulInt64(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	r := a * b
	if r/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		return 0, false
	}
	return r, true
}

func addInt64(a, b int64) (int64, bool) {
	r := a + b
	if (b > 0 && r < a) || (b < 0 && r > a) {
		return 0, false
	}
	return r, true
}

// prorate is amount × num / den rounded half away from zero, checked: the
// share of a period's amount that num of its den days carry.
func (l Limits) prorate(field string, amount, num, den int64) (int64, error) {
	if den <= 0 || num <= 0 {
		return 0, nil
	}
	if err := l.Amount(field, amount); err != nil {
		return 0, err
	}
	product, ok := mulInt64(amount, num)
	if !ok {
		return 0, MoneyLimitError(field, "%s: %d × %d days is beyond what can be computed", field, amount, num)
	}
	return divRoundHalfUp(product, den), nil
}
