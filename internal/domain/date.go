package domain

import (
	"database/sql/driver"
	"fmt"
	"strings"
	"time"
)

// Date is a civil date in UTC. Contracts, periods and effective dates are
// whole days; keeping them apart from instants avoids timezone drift.
type Date struct {
	t time.Time // always 00:00 UTC
}

const dateLayout = "2006-01-02"

// NewDate builds a Date; out-of-range days normalise like time.Date does.
func NewDate(year int, month time.Month, day int) Date {
	return Date{time.Date(year, month, day, 0, 0, 0, 0, time.UTC)}
}

// DateOf is the UTC calendar day of an instant.
func DateOf(t time.Time) Date {
	u := t.UTC()
	return NewDate(u.Year(), u.Month(), u.Day())
}

// ParseDate accepts "2006-01-02" and, since one seed types effective dates as
// date-time, an RFC 3339 instant (its UTC day is used).
func ParseDate(s string) (Date, error) {
	if t, err := time.Parse(dateLayout, s); err == nil {
		return DateOf(t), nil
	}
	if t, err := ParseDateTime(s); err == nil {
		return DateOf(t), nil
	}
	// Both forms, as both are taken: a client whose date-time is malformed
	// is not to be told to send a date alone.
	return Date{}, fmt.Errorf("%q is not a date (want YYYY-MM-DD or an RFC 3339 date-time such as 2026-01-01T00:00:00Z)", s)
}

// ParseCivilDate accepts exactly "2006-01-02": the form of every date field
// but the one a seed types as a date-time (see ParseDate).
func ParseCivilDate(s string) (Date, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date (want YYYY-MM-DD)", s)
	}
	return DateOf(t), nil
}

// ParseDateTime parses an RFC 3339 date-time, refusing offsets RFC 3339
// does not allow (hours past 23, minutes past 59), which Go's parser takes:
// +24:00 and +00:60 read as a day and an hour.
func ParseDateTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return t, err
	}
	if n := len(s); n >= 6 && (s[n-6] == '+' || s[n-6] == '-') && (s[n-5:n-3] > "23" || s[n-2:] > "59") {
		return time.Time{}, fmt.Errorf("%q has an offset out of range (at most 23:59)", s)
	}
	return t, nil
}

// IsZero reports whether the date is unset.
func (d Date) IsZero() bool { return d.t.IsZero() }

// Time is the date's midnight, UTC.
func (d Date) Time() time.Time { return d.t }

func (d Date) Year() int          { return d.t.Year() }
func (d Date) Month() time.Month  { return d.t.Month() }
func (d Date) Day() int           { return d.t.Day() }
func (d Date) Before(o Date) bool { return d.t.Before(o.t) }
func (d Date) After(o Date) bool  { return d.t.After(o.t) }
func (d Date) Equal(o Date) bool  { return d.t.Equal(o.t) }

// Compare returns -1, 0 or +1 as d is before, on or after o.
func (d Date) Compare(o Date) int { return d.t.Compare(o.t) }
func (d Date) AddDays(n int) Date { return Date{d.t.AddDate(0, 0, n)} }

// DaysUntil counts the days from d up to (not including) o.
func (d Date) DaysUntil(o Date) int {
	return int(o.t.Sub(d.t).Hours() / 24)
}

func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.t.Format(dateLayout)
}

// MarshalJSON writes "YYYY-MM-DD", or null when unset.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + d.String() + `"`), nil
}

// UnmarshalJSON reads what ParseDate accepts; null leaves the date unset.
func (d *Date) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		*d = Date{}
		return nil
	}
	if len(s) < 2 || !strings.HasPrefix(s, `"`) || !strings.HasSuffix(s, `"`) {
		return fmt.Errorf("%s is not a date string", s)
	}
	parsed, err := ParseDate(s[1 : len(s)-1])
	if err != nil {
		return err
	}
	*d = parsed
	return nil
}

// Value stores the date in a Postgres date column.
func (d Date) Value() (driver.Value, error) {
	if d.IsZero() {
		return nil, nil
	}
	return d.t, nil
}

// Scan reads a Postgres date column.
func (d *Date) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d = Date{}
	case time.Time:
		*d = NewDate(v.Year(), v.Month(), v.Day())
	default:
		return fmt.Errorf("cannot scan %T into Date", src)
	}
	return nil
}

// AddMonthsClamped moves d by n months and sets the day to day, clamped to the
// target month's length: the rule billing anchors follow in short months.
func AddMonthsClamped(year int, month time.Month, n, day int) Date {
	first := time.Date(year, month+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	if day > last {
		day = last
	}
	return NewDate(first.Year(), first.Month(), day)
}
