package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/contractd/contractd/internal/domain"
)

// checkBody holds a JSON body to the limits of the type it is about to be
// decoded into, before it is: every string valid UTF-8 without NUL and within
// its length, every integer in its range, every list and map within its size,
// every date a real one, and no object with the same key twice (encoding/json
// would keep the last value silently, while the raw body, first value
// included, is what gets stored); keys spelt as their fields are, and
// numbers and escapes Postgres takes (checkbody_raw.go). A body that is not
// JSON or does not fit the type is left to the decoder, which names the
// field.
func checkBody(body []byte, v any) error {
	if !utf8.Valid(body) {
		return &bodyError{msg: "the request body is not valid UTF-8"}
	}
	if at, ok := loneSurrogate(body); ok {
		return &bodyError{msg: fmt.Sprintf("the request body escapes half a UTF-16 surrogate pair at byte %d: text must be whole characters", at)}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	sch := schemaFor(reflect.TypeOf(v))
	w := walker{dec: dec, schema: sch.fields, spelling: sch.spelling, totals: map[string]int{}}
	err := w.value("", 0)
	if errors.Is(err, errNotJSON) {
		return nil
	}
	return err
}

// errNotJSON stops the walk at malformed JSON; the decoder reports it.
var errNotJSON = errors.New("not JSON")

type walker struct {
	dec    *json.Decoder
	schema map[string]limit
	// spelling is each field's path by its folded spelling (see foldedPath).
	spelling map[string]string
	// totals counts, by path, the items of the lists a limit's Total bounds.
	totals map[string]int
}

func (w *walker) token() (json.Token, error) {
	tok, err := w.dec.Token()
	if err != nil {
		return nil, errNotJSON
	}
	return tok, nil
}

// maxBodyDepth bounds how deeply a body may nest lists and objects. The
// deepest body type nests 6 levels (TestBodyTypesNestWellWithinTheDepthLimit);
// without a bound, a body of a few hundred kilobytes nested 100,000 deep made
// the walk build a path per level, each longer than the last, until the
// process ran out of memory.
const maxBodyDepth = 32

// value checks the next JSON value, found at path, depth lists and objects
// down.
func (w *walker) value(path string, depth int) error {
	tok, err := w.token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); ok && (d == '[' || d == '{') && depth >= maxBodyDepth {
		return &bodyError{msg: fmt.Sprintf("the body nests lists and objects more than %d levels deep", maxBodyDepth)}
	}
	if path == "" && tok != json.Delim('{') {
		return fieldError(path, "must be a JSON object")
	}
	lim, known := w.schema[path]
	if known && lim.Kind == kindRefused && tok != nil {
		return fieldError(path, "is not accepted here")
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			return w.list(path, lim, depth)
		}
		return w.object(path, lim, depth)
	case string:
		return checkString(path, t, lim, known)
	case json.Number:
		if err := checkNumber(path, t); err != nil {
			return err
		}
		if known && lim.Kind == kindInteger {
			return checkInteger(path, t, lim)
		}
	}
	return nil
}

func (w *walker) list(path string, lim limit, depth int) error {
	n := 0
	for w.dec.More() {
		n++
		if lim.Kind == kindList && n > lim.MaxLen {
			return fieldError(path, fmt.Sprintf("must not list more than %d items", lim.MaxLen))
		}
		if lim.Kind == kindList && lim.Total > 0 {
			if w.totals[path]++; w.totals[path] > lim.Total {
				return fieldError(path, fmt.Sprintf("must not list more than %d items in all, across the request", lim.Total))
			}
		}
		if err := w.value(path+"[]", depth+1); err != nil {
			return err
		}
	}
	_, err := w.token()
	return err
}

func (w *walker) object(path string, lim limit, depth int) error {
	seen := map[string]bool{}
	for w.dec.More() {
		tok, err := w.token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		child := joinPath(path, key)
		if lim.Kind == kindMap {
			child = path + "{}"
			if err := checkString(path+" key", key, ident(lim.KeyLen), true); err != nil {
				return err
			}
			if len(seen) >= lim.MaxLen {
				return fieldError(path, fmt.Sprintf("must not have more than %d entries", lim.MaxLen))
			}
		} else if err := checkText(joinPath(path, "(a key)"), key); err != nil {
			return err
		} else if err := w.checkSpelling(child); err != nil {
			return err
		}
		if seen[key] {
			return fieldError(joinPath(path, key), "appears twice in one object")
		}
		seen[key] = true
		if err := w.value(child, depth+1); err != nil {
			return err
		}
	}
	_, err := w.token()
	return err
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// fieldError is a refusal naming the field; path is the field's JSON path.
func fieldError(path, problem string) error {
	if path == "" {
		path = "the body"
	}
	return &bodyError{msg: path + " " + problem}
}

// checkText holds any text, known field or not, to UTF-8 without NUL. (A
// lone surrogate escape, which encoding/json decodes to U+FFFD, was refused
// before the walk: see loneSurrogate.)
func checkText(path, s string) error {
	switch {
	case !utf8.ValidString(s):
		return fieldError(path, "is not valid UTF-8")
	case strings.ContainsRune(s, 0):
		return fieldError(path, "must not contain a NUL character")
	}
	return nil
}

func checkString(path, s string, lim limit, known bool) error {
	if err := checkText(path, s); err != nil {
		return err
	}
	if !known {
		return nil
	}
	switch lim.Kind {
	case kindDate:
		return checkDate(path, s, lim.Instant)
	case kindDateTime:
		return checkDateTime(path, s)
	case kindText:
		return checkBounded(path, s, lim)
	}
	return nil
}

// checkBounded holds a text to its limit: length, control characters, format.
func checkBounded(path, s string, lim limit) error {
	if n := utf8.RuneCountInString(s); n > lim.MaxLen {
		return fieldError(path, fmt.Sprintf("must not be longer than %d characters (it has %d)", lim.MaxLen, n))
	}
	if lim.Ident && strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return fieldError(path, "must not contain control characters")
	}
	if lim.Lines && strings.IndexFunc(s, isControlInLines) >= 0 {
		return fieldError(path, "must not contain control characters other than tabs and line breaks")
	}
	if lim.Format != nil && (s != "" || lim.Filled) && !lim.Format.MatchString(s) {
		return fieldError(path, "must be "+lim.FormatName)
	}
	return nil
}

// isControlInLines is a control character other than those that lay out
// lines of text: tab, line feed and carriage return.
func isControlInLines(r rune) bool {
	return unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r'
}

func checkInteger(path string, n json.Number, lim limit) error {
	v, err := strconv.ParseInt(n.String(), 10, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil // a fraction or exponent: the decoder names the type
	}
	if err != nil || v < lim.Min || v > lim.Max {
		return &bodyError{msg: path + " " + fmt.Sprintf("must be a whole number from %s to %s", thousands(lim.Min), thousands(lim.Max)), outOfRange: true}
	}
	return nil
}

// checkDate holds a date to YYYY-MM-DD (or, instant, to what
// domain.ParseDate takes) and to the years a date may have. domain.Date
// decodes a date-time too, as the one seed field typed so needs: any other
// date field is refused here, in the words a malformed date has. A
// malformed one is refused here too, naming its field, which the
// decoder's error does not.
func checkDate(path, s string, instant bool) error {
	parse := domain.ParseCivilDate
	if instant {
		parse = domain.ParseDate
	}
	d, err := parse(s)
	switch {
	case err != nil:
		return fieldError(path, err.Error())
	case d.IsZero():
		return fieldError(path, fmt.Sprintf("%s is the zero date, not a date; leave the field out to mean \"not given\"", s))
	case d.Year() < minDateYear || d.Year() > maxDateYear:
		return fieldError(path, fmt.Sprintf("%s is outside the years %d to %d", s, minDateYear, maxDateYear))
	}
	return nil
}

func checkDateTime(path, s string) error {
	t, err := domain.ParseDateTime(s)
	// The years bound the time in UTC, as it is stored: 1900-01-01T00:00:00+14:00 is in 1899.
	switch year := t.UTC().Year(); {
	case err != nil:
		return fieldError(path, fmt.Sprintf("must be an RFC 3339 date-time, such as 2026-01-01T00:00:00Z (it is %q)", s))
	case year < minDateYear || year > maxDateYear:
		return fieldError(path, fmt.Sprintf("%s is outside the years %d to %d", s, minDateYear, maxDateYear))
	}
	return nil
}

// fieldTable is a registered body type's field table, and its fields' paths
// by their folded spelling.
type fieldTable struct {
	fields   map[string]limit
	spelling map[string]string
}

// schemas caches each registered body type's field table.
var schemas = sync.OnceValue(func() map[reflect.Type]fieldTable {
	out := map[reflect.Type]fieldTable{}
	for _, b := range bodySchemas {
		spelling := make(map[string]string, len(b.Fields))
		for path := range b.Fields {
			spelling[foldedPath(path)] = path
		}
		out[b.Type] = fieldTable{fields: b.Fields, spelling: spelling}
	}
	return out
})

// schemaFor is the field table of the type v points to; a type nobody
// registered gets none, so only the checks every text gets (UTF-8, no NUL,
// no duplicate keys) apply to it, and TestEveryBodyTypeHasLimits fails.
func schemaFor(t reflect.Type) fieldTable {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return schemas()[t]
}

// fieldPaths lists every JSON path of t as this file names them, with what
// each holds, the way encoding/json sees the type (embedded structs
// flattened, `json:"-"` skipped). Tests hold the limit tables to it.
func fieldPaths(t reflect.Type) map[string]limitKind {
	out := map[string]limitKind{}
	addPaths(out, t, "")
	return out
}

var (
	dateType = reflect.TypeFor[domain.Date]()
	timeType = reflect.TypeFor[time.Time]()
	// rawType is JSON a handler keeps as it came (and ignores): an object
	// whose inside has no limits of its own beyond those on all text.
	rawType    = reflect.TypeFor[json.RawMessage]()
	numberType = reflect.TypeFor[domain.Number]()
)

func addPaths(out map[string]limitKind, t reflect.Type, path string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	kind := kindOf(t)
	if t == rawType {
		out[path] = kindObject
		return
	}
	if path != "" {
		out[path] = kind
	}
	switch kind {
	case kindObject:
		addFields(out, t, path)
	case kindList:
		addPaths(out, t.Elem(), path+"[]")
	case kindMap:
		addPaths(out, t.Elem(), path+"{}")
	}
}

func addFields(out map[string]limitKind, t reflect.Type, path string) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-" || (!f.IsExported() && !f.Anonymous):
		case f.Anonymous && name == "":
			addFields(out, f.Type, path)
		default:
			if name == "" {
				name = f.Name
			}
			addPaths(out, f.Type, joinPath(path, name))
		}
	}
}

func kindOf(t reflect.Type) limitKind {
	if t == dateType {
		return kindDate
	}
	if t == timeType {
		return kindDateTime
	}
	if t == numberType {
		return kindInteger // a whole number spelled as JSON allows (7.0); the handler checks it is whole
	}
	switch t.Kind() {
	case reflect.String:
		return kindText
	case reflect.Bool:
		return kindBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return kindInteger
	case reflect.Slice, reflect.Array:
		return kindList
	case reflect.Map:
		return kindMap
	case reflect.Struct:
		return kindObject
	}
	return ""
}
