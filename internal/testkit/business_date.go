package testkit

import (
	"testing"
	"time"
)

// BusinessDate is the day a test pins its clock to when what it checks
// must not depend on the wall clock's date: inside the term CreateContract
// gives (2026-01-01 to 2028-01-01), so the contracts it makes are active,
// and within five years of their start, so they are accepted at all. On the
// wall clock's date they are expired as soon as they are made from
// 2028-01-01, and refused from 2031-01-02 (domain.MaxBackdateYears).
var BusinessDate = time.Date(2026, time.March, 15, 10, 0, 0, 0, time.UTC)

// NewOnBusinessDate is New with the test's clock at BusinessDate.
func NewOnBusinessDate(t testing.TB, opts ...Option) *Env {
	t.Helper()
	e := New(t, opts...)
	e.Clock.Set(BusinessDate)
	return e
}
