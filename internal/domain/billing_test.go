package domain

import "testing"

// wantPeriod is a due period: its first and last day, and its days out of its
// cycle's.
type wantPeriod struct {
	start, last string
	days, full  int
}

func requirePeriods(t *testing.T, got []DuePeriod, wanted []wantPeriod) {
	t.Helper()
	if len(got) != len(wanted) {
		t.Fatalf("got %d periods %v, want %d", len(got), got, len(wanted))
	}
	for i, w := range wanted {
		p := got[i]
		start, last := p.Billed.Start.String(), p.Billed.End.AddDays(-1).String()
		if start != w.start || last != w.last || p.Billed.Days() != w.days || p.Cycle.Days() != w.full {
			t.Errorf("period %d = %s..%s (%d of %d days), want %s..%s (%d of %d days)",
				i, start, last, p.Billed.Days(), p.Cycle.Days(), w.start, w.last, w.days, w.full)
		}
	}
}

func monthly(effective, expiration string, day int) BillingTerms {
	return BillingTerms{EffectiveDate: d(effective), ExpirationDate: d(expiration), CycleDay: day, Period: Monthly}
}

func TestDuePeriods(t *testing.T) {
	tests := []struct {
		name  string
		terms BillingTerms
		asOf  string
		want  []wantPeriod
	}{
		{
			name:  "monthly on the first",
			terms: monthly("2026-01-01", "2027-01-01", 1),
			asOf:  "2026-03-01",
			want:  []wantPeriod{{"2026-01-01", "2026-01-31", 31, 31}, {"2026-02-01", "2026-02-28", 28, 28}, {"2026-03-01", "2026-03-31", 31, 31}},
		},
		{
			name:  "nothing due before the effective date",
			terms: monthly("2026-05-01", "2027-01-01", 1),
			asOf:  "2026-04-30",
		},
		{
			name:  "day 31 clamps to each short month without drifting",
			terms: monthly("2026-01-31", "2027-01-01", 31),
			asOf:  "2026-05-31",
			want: []wantPeriod{
				{"2026-01-31", "2026-02-27", 28, 28}, {"2026-02-28", "2026-03-30", 31, 31}, {"2026-03-31", "2026-04-29", 30, 30},
				{"2026-04-30", "2026-05-30", 31, 31}, {"2026-05-31", "2026-06-29", 30, 30},
			},
		},
		{
			name:  "day 30 in February of a common year",
			terms: monthly("2027-01-30", "2028-01-01", 30),
			asOf:  "2027-03-30",
			want:  []wantPeriod{{"2027-01-30", "2027-02-27", 29, 29}, {"2027-02-28", "2027-03-29", 30, 30}, {"2027-03-30", "2027-04-29", 31, 31}},
		},
		{
			name:  "day 29 in February of a leap year",
			terms: monthly("2028-01-29", "2029-01-01", 29),
			asOf:  "2028-03-29",
			want:  []wantPeriod{{"2028-01-29", "2028-02-28", 31, 31}, {"2028-02-29", "2028-03-28", 29, 29}, {"2028-03-29", "2028-04-28", 31, 31}},
		},
		{
			name:  "day 29 in February of a common year",
			terms: monthly("2027-01-29", "2028-01-01", 29),
			asOf:  "2027-03-29",
			want:  []wantPeriod{{"2027-01-29", "2027-02-27", 30, 30}, {"2027-02-28", "2027-03-28", 29, 29}, {"2027-03-29", "2027-04-28", 31, 31}},
		},
		{
			name:  "stub up to a later cycle day in the same month",
			terms: monthly("2026-01-15", "2027-01-01", 20),
			asOf:  "2026-02-20",
			want:  []wantPeriod{{"2026-01-15", "2026-01-19", 5, 31}, {"2026-01-20", "2026-02-19", 31, 31}, {"2026-02-20", "2026-03-19", 28, 28}},
		},
		{
			name:  "stub up to the cycle day of the next month",
			terms: monthly("2026-01-15", "2027-01-01", 1),
			asOf:  "2026-02-01",
			want:  []wantPeriod{{"2026-01-15", "2026-01-31", 17, 31}, {"2026-02-01", "2026-02-28", 28, 28}},
		},
		{
			name:  "quarterly",
			terms: BillingTerms{EffectiveDate: d("2026-01-31"), ExpirationDate: d("2027-01-01"), CycleDay: 31, Period: Quarterly},
			asOf:  "2026-12-31",
			want:  []wantPeriod{{"2026-01-31", "2026-04-29", 89, 89}, {"2026-04-30", "2026-07-30", 92, 92}, {"2026-07-31", "2026-10-30", 92, 92}, {"2026-10-31", "2026-12-31", 62, 92}},
		},
		{
			name:  "annual from a leap day",
			terms: BillingTerms{EffectiveDate: d("2028-02-29"), ExpirationDate: d("2031-01-01"), CycleDay: 29, Period: Annual},
			asOf:  "2030-02-28",
			want:  []wantPeriod{{"2028-02-29", "2029-02-27", 365, 365}, {"2029-02-28", "2030-02-27", 365, 365}, {"2030-02-28", "2030-12-31", 307, 365}},
		},
		{
			name:  "the last period stops at the expiration date",
			terms: monthly("2026-01-01", "2026-03-15", 1),
			asOf:  "2026-12-01",
			want:  []wantPeriod{{"2026-01-01", "2026-01-31", 31, 31}, {"2026-02-01", "2026-02-28", 28, 28}, {"2026-03-01", "2026-03-14", 14, 31}},
		},
		{
			name:  "nothing starts on the expiration date",
			terms: monthly("2026-01-01", "2026-02-01", 1),
			asOf:  "2026-02-01",
			want:  []wantPeriod{{"2026-01-01", "2026-01-31", 31, 31}},
		},
		{
			name: "periods after the last billed one",
			terms: BillingTerms{EffectiveDate: d("2026-01-01"), ExpirationDate: d("2027-01-01"), CycleDay: 1, Period: Monthly,
				BilledThrough: d("2026-03-01")},
			asOf: "2026-04-01",
			want: []wantPeriod{{"2026-03-01", "2026-03-31", 31, 31}, {"2026-04-01", "2026-04-30", 30, 30}},
		},
		{
			name: "a restart resumes from the next due date",
			terms: BillingTerms{EffectiveDate: d("2026-01-01"), ExpirationDate: d("2027-01-01"), CycleDay: 1, Period: Monthly,
				BilledThrough: d("2026-02-01"), ResumesOn: d("2026-04-15")},
			asOf: "2026-06-01",
			want: []wantPeriod{{"2026-05-01", "2026-05-31", 31, 31}, {"2026-06-01", "2026-06-30", 30, 30}},
		},
		{
			name: "a restart on a due date bills that period",
			terms: BillingTerms{EffectiveDate: d("2026-01-01"), ExpirationDate: d("2027-01-01"), CycleDay: 1, Period: Monthly,
				ResumesOn: d("2026-04-01")},
			asOf: "2026-04-01",
			want: []wantPeriod{{"2026-04-01", "2026-04-30", 30, 30}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requirePeriods(t, tt.terms.DuePeriods(d(tt.asOf)), tt.want)
		})
	}
}

// TestDuePeriodsFollowTerms bills a line of 1000 a month: a term start
// inside a cycle splits it in two stubs whose charges are each its share
// by days; an evergreen contract goes on past its expiration date in whole
// cycles, any other stops there.
func TestDuePeriodsFollowTerms(t *testing.T) {
	renewed := func(billedThrough, termStart string) BillingTerms {
		terms := monthly("2025-01-01", "2027-01-15", 1)
		terms.BilledThrough, terms.TermStart = d(billedThrough), d(termStart)
		return terms
	}
	evergreen := monthly("2026-01-01", "2026-02-15", 1)
	evergreen.Evergreen = true
	lateRenewal := renewed("2026-01-15", "2026-01-15")
	lateRenewal.ResumesOn = d("2026-01-20")
	tests := []struct {
		name    string
		terms   BillingTerms
		asOf    string
		want    []wantPeriod
		charges []int64
	}{
		{
			name:    "a term start inside a cycle splits it",
			terms:   renewed("2026-01-01", "2026-01-15"),
			asOf:    "2026-02-01",
			want:    []wantPeriod{{"2026-01-01", "2026-01-14", 14, 31}, {"2026-01-15", "2026-01-31", 17, 31}, {"2026-02-01", "2026-02-28", 28, 28}},
			charges: []int64{452, 548, 1000}, // 451.61 and 548.39
		},
		{
			name:    "the stub before the term start, billed before the renewal, is not billed again",
			terms:   renewed("2026-01-15", "2026-01-15"),
			asOf:    "2026-02-01",
			want:    []wantPeriod{{"2026-01-15", "2026-01-31", 17, 31}, {"2026-02-01", "2026-02-28", 28, 28}},
			charges: []int64{548, 1000},
		},
		{
			name:    "a term start on a cycle's first day splits nothing",
			terms:   renewed("2026-01-01", "2026-02-01"),
			asOf:    "2026-02-01",
			want:    []wantPeriod{{"2026-01-01", "2026-01-31", 31, 31}, {"2026-02-01", "2026-02-28", 28, 28}},
			charges: []int64{1000, 1000},
		},
		{
			name:    "a renewal applied late bills from the next period after it",
			terms:   lateRenewal,
			asOf:    "2026-02-01",
			want:    []wantPeriod{{"2026-02-01", "2026-02-28", 28, 28}},
			charges: []int64{1000},
		},
		{
			name:    "an evergreen contract bills whole cycles past its expiration, up to asOf",
			terms:   evergreen,
			asOf:    "2026-04-30",
			want:    []wantPeriod{{"2026-01-01", "2026-01-31", 31, 31}, {"2026-02-01", "2026-02-28", 28, 28}, {"2026-03-01", "2026-03-31", 31, 31}, {"2026-04-01", "2026-04-30", 30, 30}},
			charges: []int64{1000, 1000, 1000, 1000},
		},
		{
			// Billed monthly to 1 February, then changed to annual billing
			// from there: the year's cycle from 1 January is due from 1
			// February, to the expiration.
			name:    "a cycle billed in part in another shape is due from where it was billed to",
			terms:   BillingTerms{EffectiveDate: d("2026-01-01"), ExpirationDate: d("2027-01-01"), CycleDay: 1, Period: Annual, BilledThrough: d("2026-02-01")},
			asOf:    "2026-02-01",
			want:    []wantPeriod{{"2026-02-01", "2026-12-31", 334, 365}},
			charges: []int64{915}, // 915.07
		},
		{
			// Billed to its expiration on 15 March, then made evergreen.
			name:    "a term extended after its last stub was billed bills the rest of that cycle",
			terms:   BillingTerms{EffectiveDate: d("2026-01-01"), ExpirationDate: d("2026-03-15"), CycleDay: 1, Period: Monthly, Evergreen: true, BilledThrough: d("2026-03-15")},
			asOf:    "2026-04-01",
			want:    []wantPeriod{{"2026-03-15", "2026-03-31", 17, 31}, {"2026-04-01", "2026-04-30", 30, 30}},
			charges: []int64{548, 1000},
		},
		{
			name:    "a contract that is not evergreen stops at its expiration",
			terms:   monthly("2026-01-01", "2026-02-15", 1),
			asOf:    "2026-04-30",
			want:    []wantPeriod{{"2026-01-01", "2026-01-31", 31, 31}, {"2026-02-01", "2026-02-14", 14, 28}},
			charges: []int64{1000, 500},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.terms.DuePeriods(d(tt.asOf))
			requirePeriods(t, got, tt.want)
			for i, p := range got {
				if charge, err := p.Charge(Limits{}.OrDefaults(), "line", 1000); err != nil || charge != tt.charges[i] {
					t.Errorf("period %d charges %d (%v), want %d", i, charge, err, tt.charges[i])
				}
			}
		})
	}
}

// stub is a period billing days of a full cycle's days.
func stub(days, full int) DuePeriod {
	start := d("2026-01-01")
	return DuePeriod{Billed: Period{Start: start, End: start.AddDays(days)}, Cycle: Period{Start: start, End: start.AddDays(full)}}
}

func TestDuePeriodCharge(t *testing.T) {
	tests := []struct {
		name       string
		days, full int
		amount     int64
		want       int64
	}{
		{"full period", 28, 28, 1999, 1999},
		{"half rounds up", 1, 2, 1, 1},
		{"below half rounds down", 1, 3, 1, 0},
		{"stub of a 31-day month", 17, 31, 3000, 1645}, // 1645.16
		{"stub rounding up", 5, 31, 1500, 242},         // 241.93
		{"zero amount", 5, 31, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := stub(tt.days, tt.full).Charge(Limits{}.OrDefaults(), "line", tt.amount); err != nil || got != tt.want {
				t.Errorf("Charge(%d) over %d/%d days = %d, want %d", tt.amount, tt.days, tt.full, got, tt.want)
			}
		})
	}
}

func TestRecurringChargesRoundEachLine(t *testing.T) {
	lines := []Line{{OfferingID: "a", RateID: "ra", RecurringAmount: 1000}, {OfferingID: "b", RateID: "rb", SalesItemCode: "B", RecurringAmount: 1001}}
	got, total, err := RecurringCharges(Limits{}.OrDefaults(), lines, stub(1, 2))
	if err != nil || got[0].Amount != 500 || got[1].Amount != 501 || total != 1001 {
		t.Fatalf("charges %+v total %d, want 500 + 501 = 1001", got, total)
	}
	if want := "b, 2026-01-01 to 2026-01-01 (1 of 2 days)"; got[1].Description != want {
		t.Errorf("description %q, want %q", got[1].Description, want)
	}
	full, _, _ := RecurringCharges(Limits{}.OrDefaults(), lines, stub(31, 31))
	if want := "a, 2026-01-01 to 2026-01-31"; full[0].Description != want || full[0].Amount != 1000 {
		t.Errorf("full period line %+v, want %q at 1000", full[0], want)
	}
}

func TestScheduleActionApply(t *testing.T) {
	tests := []struct {
		action    ScheduleAction
		contract  string
		status    string
		protected bool
		owed      bool
		want      string
		wantKind  Kind
	}{
		{CancelSchedule, ContractActive, ScheduleActive, false, false, ScheduleTerminated, ""},
		{CancelSchedule, ContractActive, ScheduleTerminated, false, false, "", KindInvalid},
		{RestartSchedule, ContractActive, ScheduleTerminated, false, false, ScheduleActive, ""},
		{RestartSchedule, ContractActive, ScheduleActive, false, false, "", KindInvalid},
		{CancelSchedule, ContractActive, ScheduleActive, true, false, "", KindForbidden},
		{RestartSchedule, ContractActive, ScheduleTerminated, true, false, "", KindForbidden},
		{CancelSchedule, ContractCancelled, ScheduleActive, false, false, "", KindInvalid},
		{RestartSchedule, ContractExpired, ScheduleTerminated, false, false, "", KindInvalid},
		{CancelSchedule, ContractCancelled, ScheduleActive, true, false, "", KindForbidden},
		// An ended contract that still owes: its schedule decides whether that is collected.
		{RestartSchedule, ContractCancelled, ScheduleTerminated, false, true, ScheduleActive, ""},
		{CancelSchedule, ContractExpired, ScheduleActive, false, true, ScheduleTerminated, ""},
		{RestartSchedule, ContractCancelled, ScheduleActive, false, true, "", KindInvalid},
		{RestartSchedule, ContractCancelled, ScheduleTerminated, true, true, "", KindForbidden},
	}
	for _, tt := range tests {
		got, err := tt.action.Apply(tt.contract, tt.status, tt.protected, tt.owed)
		if got != tt.want || KindOf(err) != tt.wantKind {
			t.Errorf("%s on a %s contract's %s schedule (protected %v, owed %v) = %q, %v; want %q, kind %q",
				tt.action, tt.contract, tt.status, tt.protected, tt.owed, got, err, tt.want, tt.wantKind)
		}
	}
}
