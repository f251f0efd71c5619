package api

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var updateREADME = flag.Bool("update-readme", false, "rewrite the README's input-limits table from api/limits.go")

// TestEveryBodyFieldHasALimit walks every registered body type the way
// encoding/json sees it: each field must have a limit of its kind, and each
// limit must name a field, so a field added to a request type without a
// bound fails here.
func TestEveryBodyFieldHasALimit(t *testing.T) {
	for _, b := range bodySchemas {
		paths := fieldPaths(b.Type)
		for path, kind := range paths {
			if underRefused(b.Fields, path) {
				continue
			}
			lim, ok := b.Fields[path]
			if assert.True(t, ok, "%s: field %s (%s) has no limit", b.Surface, path, kind) && lim.Kind != kindRefused {
				assert.Equal(t, kind, lim.Kind, "%s: field %s", b.Surface, path)
			}
		}
		for path := range b.Fields {
			assert.Contains(t, paths, path, "%s: a limit for %s, which the type does not have", b.Surface, path)
		}
	}
}

// underRefused reports whether path lies inside a field the surface refuses.
func underRefused(fields map[string]limit, path string) bool {
	for p, lim := range fields {
		if lim.Kind == kindRefused && strings.HasPrefix(path, p) && path != p {
			return true
		}
	}
	return false
}

const (
	limitsBegin = "<!-- input-limits:begin (generated from api/limits.go: go test ./api -run TestInputLimitsTable -update-readme) -->\n"
	limitsEnd   = "<!-- input-limits:end -->\n"
)

// TestInputLimitsTableIsTheREADMEs keeps the README's table equal to the
// limits the API enforces.
func TestInputLimitsTableIsTheREADMEs(t *testing.T) {
	raw, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	readme := string(raw)
	start, end := strings.Index(readme, limitsBegin), strings.Index(readme, limitsEnd)
	require.True(t, start >= 0 && end > start, "the README has no input-limits section between its markers")
	want := limitsTable()
	if *updateREADME {
		readme = readme[:start+len(limitsBegin)] + want + readme[end:]
		require.NoError(t, os.WriteFile("../README.md", []byte(readme), 0o644))
		return
	}
	assert.Equal(t, want, readme[start+len(limitsBegin):end], "regenerate with: go test ./api -run TestInputLimitsTable -update-readme")
}

// limitsTable renders every limit as README rows.
func limitsTable() string {
	var sb strings.Builder
	row := func(where, field string, kind limitKind, lim limit) {
		fmt.Fprintf(&sb, "| %s | `%s` | %s | %s |\n", where, field, kind, lim.describe())
	}
	sb.WriteString("| where | field | type | bound |\n|---|---|---|---|\n")
	for _, b := range bodySchemas {
		for _, path := range sortedKeys(b.Fields) {
			// An object is bounded by its fields and the body size.
			if lim := b.Fields[path]; lim.Kind != kindObject {
				row(b.Surface, path, lim.Kind, lim)
			}
		}
	}
	for _, name := range sortedKeys(paramLimits) {
		row("every route: path segment", ":"+name, kindText, paramLimits[name])
	}
	for _, name := range sortedKeys(queryLimits) {
		row("every route: query parameter", name, queryLimits[name].Kind, queryLimits[name])
	}
	row("every route: any other query parameter", "*", kindText, queryDefault)
	for _, name := range sortedKeys(headerLimits) {
		row("every route: header", name, kindText, headerLimits[name])
	}
	return sb.String()
}

// describe renders a limit for the README table.
func (l limit) describe() string {
	if l.Note != "" {
		return l.bounds() + "; " + l.Note
	}
	return l.bounds()
}

func (l limit) bounds() string {
	switch l.Kind {
	case kindText:
		s := fmt.Sprintf("≤ %d characters", l.MaxLen)
		if l.Format != nil {
			s += "; " + l.FormatName
		} else if l.Ident {
			s += "; no control characters"
		} else if l.Lines {
			s += "; no control characters but tabs and line breaks"
		}
		return s
	case kindInteger:
		return fmt.Sprintf("%s to %s", thousands(l.Min), thousands(l.Max))
	case kindDate:
		if l.Instant {
			return fmt.Sprintf("YYYY-MM-DD, or an RFC 3339 date-time as its UTC day; years %d to %d", minDateYear, maxDateYear)
		}
		return fmt.Sprintf("YYYY-MM-DD, years %d to %d", minDateYear, maxDateYear)
	case kindDateTime:
		return fmt.Sprintf("RFC 3339 date-time, years %d to %d", minDateYear, maxDateYear)
	case kindList:
		if l.Total > 0 {
			return fmt.Sprintf("≤ %s items; ≤ %s in all, across the lists", thousands(int64(l.MaxLen)), thousands(int64(l.Total)))
		}
		return fmt.Sprintf("≤ %s items", thousands(int64(l.MaxLen)))
	case kindMap:
		return fmt.Sprintf("≤ %d entries, keys ≤ %d characters", l.MaxLen, l.KeyLen)
	case kindRefused:
		return "not accepted"
	case kindBool:
		return "true or false"
	}
	return ""
}
