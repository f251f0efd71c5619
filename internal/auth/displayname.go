package auth

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxDisplayNameLen bounds a key's display name, in characters: the
// database's api_keys_display_name_bounds checks the same.
const MaxDisplayNameLen = 100

// CheckDisplayName says why name cannot be a key's display name, or nil: it
// is shown to people in answers and the approvers' inbox, so it must be
// readable text of 1 to MaxDisplayNameLen characters.
func CheckDisplayName(name string) error {
	switch n := utf8.RuneCountInString(name); {
	case !utf8.ValidString(name):
		return errors.New("the display name must be valid UTF-8")
	case strings.ContainsRune(name, 0):
		return errors.New("the display name must not contain NUL")
	case strings.TrimSpace(name) == "":
		return errors.New("the display name must not be empty or only blanks")
	case n > MaxDisplayNameLen:
		return fmt.Errorf("the display name has %d characters, at most %d are allowed", n, MaxDisplayNameLen)
	}
	return nil
}

// DefaultDisplayName is the name of a key issued without one: the customer
// for a customer key, its roles for any other. Migration 0016 names the keys
// that predate display names the same way.
func DefaultDisplayName(roles []Role, source Source, accountNumber string) string {
	if source == SourceCustomer {
		return truncate("Customer " + accountNumber)
	}
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	return truncate(strings.Join(names, ", ") + " key")
}

func truncate(name string) string {
	if utf8.RuneCountInString(name) <= MaxDisplayNameLen {
		return name
	}
	return string([]rune(name)[:MaxDisplayNameLen])
}
