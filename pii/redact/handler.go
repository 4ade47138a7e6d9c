package redact

import (
	"context"
	"encoding"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strconv"

	"github.com/dataward/dataward/pii"
	"github.com/dataward/dataward/pii/detect"
)

// Handler is a [slog.Handler] that redacts records before passing them to
// another handler. Make one with [Redactor.Handler].
type Handler struct {
	next slog.Handler
	r    *Redactor
	// hidden is set in a group whose name names a secret: every value in
	// it is "[REDACTED]".
	hidden bool
}

// Handler returns a [slog.Handler] that redacts each record and passes it
// to next, which may be any handler, such as a [slog.JSONHandler] or a
// [slog.TextHandler]:
//
//	logger := slog.New(r.Handler(slog.NewJSONHandler(os.Stdout, nil)))
//
// The handler redacts the message and the attributes, those of the
// record and those given to WithAttrs (which are redacted once, there):
//
//   - an attribute whose key names a secret becomes "[REDACTED]", whatever
//     its value, a group included. Keys match the names in [DefaultKeys]
//     and [Options.Keys] word by word, in any case and with any
//     separators: "password" matches "password", "user_password",
//     "PasswordHash" and "passwords", not "passport"; "api_key" matches
//     "X-API-Key" and "apiKey". A group opened by WithGroup with such a
//     name hides every value in it;
//   - a key, or a group's name (WithGroup's included), in which the
//     scanner finds something is redacted like [Redactor.String];
//   - a string is scanned and redacted like [Redactor.String];
//   - a [slog.LogValuer] is resolved first, and its value redacted. The
//     types of package pii, such as [pii.Email], arrive masked and are
//     passed on as they are masked (an e-mail address keeps its domain);
//   - an error, a [fmt.Stringer], or a []byte (json.RawMessage, say) is
//     rendered (by Error, String, or as text) and scanned; it is replaced
//     by its redacted rendering, a string, only if something was found in
//     it;
//   - an integer of seven digits or more is scanned in decimal, and
//     replaced by a redacted string if something was found;
//   - a group is redacted attribute by attribute;
//   - other values of kind Any (structs, maps, slices, pointers) are
//     rendered with fmt's "%+v" and scanned, and replaced by the redacted
//     rendering only if something was found. A [slog.JSONHandler] encodes
//     such a value with encoding/json, which may show it otherwise (the
//     fields of elements that fmt shows by their String methods, say), so
//     such a value, and a [fmt.Stringer] that is a struct, map, slice or
//     array, is also encoded so and scanned: found there, the value is
//     replaced by that rendering, redacted. The `pii` tags of a struct are
//     not consulted: give types that hold personal data a LogValue method,
//     use pii's types, or log them after [Redactor.Struct]. A value that
//     holds itself (a map that is one of its own values, say), which fmt
//     cannot print, becomes "[REDACTED]".
//
// Floats, booleans, times and durations pass unchanged.
//
// When nothing needs changing, the record goes to next as it came, and
// the handler allocates nothing (unless a String or Error method does, and
// but for the first 256 distinct keys, whose verdicts it remembers);
// otherwise next receives a new record with the redacted message and
// attributes, which costs an allocation more if it has more than five
// attributes, and one for the redacted strings unless each is one finding
// alone of a built-in type whose strategy is Tag or Remove (a value that
// is an e-mail address, say, becomes "[EMAIL]", a string made once). A
// record with a LogValuer is always rebuilt with the resolved value, so
// that LogValue is called once and what is written is what was scanned.
func (r *Redactor) Handler(next slog.Handler) *Handler {
	if next == nil {
		panic("redact: Redactor.Handler: nil slog.Handler")
	}
	return &Handler{next: next, r: r}
}

// Enabled reports whether the next handler handles records of level.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle redacts rec and passes it to the next handler, returning its
// error.
func (h *Handler) Handle(ctx context.Context, rec slog.Record) error {
	// Most records hold nothing to redact. They are checked with findings
	// on the stack, without scratch space, and passed on as they came.
	var local [4]detect.Finding
	fs := h.r.scanner.AppendScanString(local[:0], rec.Message)
	at := -1
	if len(fs) == 0 {
		n := 0
		rec.Attrs(func(a slog.Attr) bool {
			var v int
			// The key's verdict is most often in its home slot of the
			// cache, read here without a call.
			secret, found, known := h.r.keys.hit(a.Key)
			if !known {
				secret, found = h.key(a.Key)
			}
			if k := a.Value.Kind(); (k == slog.KindString || plainKind(k)) && !secret && !found && !h.hidden {
				// The commonest attributes, a string or a kind that
				// cannot hold personal data under a key that names no
				// secret, are checked here as check would.
				if k != slog.KindString {
					n++
					return true
				}
				if fs = h.r.scanner.AppendScanString(local[:0], a.Value.String()); len(fs) == 0 {
					n++
					return true
				}
				v = foundInString
			} else if fs, v = h.check(a, local[:0]); v == keep {
				n++
				return true
			}
			at = n
			return false
		})
		if at < 0 {
			return h.next.Handle(ctx, rec)
		}
	}
	return h.next.Handle(ctx, h.redactRecord(rec, at, fs))
}

// What check says of an attribute.
const (
	keep          = iota // it passes unchanged
	foundInString        // it is a string, and the findings returned are what was found in it
	change               // it changes
	unsure               // it needs a closer look, by value
)

// check says whether a passes unchanged, looking at keys and at the
// values most records hold: strings, which it scans into dst, and kinds
// that cannot hold personal data. It is attr's fast path.
func (h *Handler) check(a slog.Attr, dst []detect.Finding) ([]detect.Finding, int) {
	secret, found := h.key(a.Key)
	if found {
		return dst, change // the key itself is redacted
	}
	if secret || h.hidden {
		if a.Value.Kind() == slog.KindString && a.Value.String() == redacted || ignored(a) {
			return dst, keep
		}
		return dst, change
	}
	switch a.Value.Kind() {
	case slog.KindString:
		if dst = h.r.scanner.AppendScanString(dst, a.Value.String()); len(dst) > 0 {
			return dst, foundInString
		}
		return dst, keep
	case slog.KindInt64:
		if n := a.Value.Int64(); n < minScannedInt && n > -minScannedInt {
			return dst, keep
		}
	case slog.KindUint64:
		if a.Value.Uint64() < minScannedInt {
			return dst, keep
		}
	case slog.KindLogValuer:
		return dst, change // always replaced by its resolved value
	}
	if plainKind(a.Value.Kind()) {
		return dst, keep
	}
	return dst, unsure
}

// plainKinds are the kinds of values that cannot hold personal data:
// booleans, floats, durations and times, as bits of a mask.
const plainKinds = 1<<slog.KindBool | 1<<slog.KindFloat64 | 1<<slog.KindDuration | 1<<slog.KindTime

// plainKind reports whether a value of kind k cannot hold personal data.
func plainKind(k slog.Kind) bool { return plainKinds>>k&1 != 0 }

// ignored reports whether handlers ignore a, as slog.Handler's contract
// says: an empty attribute, or a group with no attributes. Hiding its
// value would make it appear.
func ignored(a slog.Attr) bool {
	k := a.Value.Kind()
	return k == slog.KindAny && a.Key == "" && a.Value.Any() == nil ||
		k == slog.KindGroup && len(a.Value.Group()) == 0
}

// key reports whether key names a secret and whether the scanner finds
// something in it, which is then redacted as a value would be.
func (h *Handler) key(key string) (secret, found bool) {
	if key == "" {
		return false, false
	}
	return h.r.keys.verdict(key)
}

// settle is check with space to work in, which settles every attribute:
// for foundInString it returns the findings, in dst; for change, a
// redacted.
func (h *Handler) settle(a slog.Attr, dst []detect.Finding, ls *lazyScratch) (slog.Attr, []detect.Finding, int) {
	var v int
	switch dst, v = h.check(a, dst); v {
	case change:
		a, _ = h.attr(a, ls.get(), 0)
	case unsure:
		var changed bool
		if a.Value, changed = h.value(a.Value, ls.get(), 0); !changed {
			return a, dst, keep
		}
		v = change
	}
	return a, dst, v
}

// A lazyScratch takes scratch space from the pool when it is first
// needed: a record whose redacted strings are each a tag alone (see
// aloneTags) needs none.
type lazyScratch struct{ sc *scratch }

func (ls *lazyScratch) get() *scratch {
	if ls.sc == nil {
		ls.sc = getScratch()
	}
	return ls.sc
}

func (ls *lazyScratch) put() {
	if ls.sc != nil {
		putScratch(ls.sc)
	}
}

// redactRecord returns rec redacted. Handle found that its message holds
// the findings fs, if at is negative; otherwise that its message holds
// nothing, nor its attributes before the at-th, which is a string holding
// fs if fs is not empty, and needs a closer look if it is.
//
// Unless an attribute changes, it is rec with its message redacted;
// otherwise a new record of rec's message and attributes: those before the
// first that changes as they are, and the others redacted.
func (h *Handler) redactRecord(rec slog.Record, at int, fs []detect.Finding) slog.Record {
	var ls lazyScratch
	defer ls.put()
	var b batch
	// Findings of the strings checked here, on the stack.
	var local [8]detect.Finding
	// The first attribute that changes, and whether it is a string whose
	// findings are fs, or else its redacted form.
	first, inString := -1, false
	var changed slog.Attr
	switch {
	case at < 0:
		if msg, ok := b.add(h.r, &ls, -1, rec.Message, fs); !ok {
			rec.Message = msg
		}
		at = 0
	case len(fs) > 0:
		first, inString = at, true
	}
	if first < 0 {
		n := 0
		rec.Attrs(func(a slog.Attr) bool {
			if n >= at {
				var v int
				switch changed, fs, v = h.settle(a, local[:0], &ls); v {
				case foundInString:
					first, inString = n, true
					return false
				case change:
					first = n
					return false
				}
			}
			n++
			return true
		})
		if first < 0 {
			b.done(&ls, &rec, nil)
			return rec
		}
	}
	var buf [8]slog.Attr
	out := buf[:0]
	rec.Attrs(func(a slog.Attr) bool {
		i := len(out)
		switch {
		case i == first && inString:
			a.Value = b.value(h.r, &ls, i, a.Value.String(), fs)
		case i == first:
			a = changed
		case i > first:
			var v int
			if fs, v = h.check(a, local[:0]); v == foundInString {
				a.Value = b.value(h.r, &ls, i, a.Value.String(), fs)
			} else if v != keep {
				a, _ = h.attr(a, ls.get(), 0)
			}
		}
		out = append(out, a)
		return true
	})
	b.done(&ls, &rec, out)
	nr := slog.NewRecord(rec.Time, rec.Level, rec.Message, rec.PC)
	nr.AddAttrs(out...)
	return nr
}

// maxBatch is how many redacted strings of a record a batch holds.
const maxBatch = 8

// A batch collects the redacted strings of a record, its message and its
// attributes that are strings, in sc.text, to make them strings with one
// allocation.
type batch struct {
	n     int
	spans [maxBatch]span
}

// A span is where a redacted string of attribute attr (-1: the message)
// stands in sc.text.
type span struct{ attr, start, end int }

// add redacts s, whose findings are fs, for attribute i (-1: the
// message). If it is a tag alone, or the batch is full, it returns the
// redacted string and false; otherwise done sets it.
func (b *batch) add(r *Redactor, ls *lazyScratch, i int, s string, fs []detect.Finding) (string, bool) {
	if t, ok := r.alone.of(s, fs); ok {
		return t, false
	}
	sc := ls.get()
	sc.fs = append(sc.fs[:0], fs...)
	if b.n == maxBatch {
		return sc.string(redact(r, sc.buf[:0], s, sc, nil)), false
	}
	start := len(sc.text)
	sc.text = redact(r, sc.text, s, sc, nil)
	b.spans[b.n] = span{i, start, len(sc.text)}
	b.n++
	return "", true
}

// value is add for a string value: its value if it is a tag alone or the
// batch is full, and a placeholder that done replaces otherwise.
func (b *batch) value(r *Redactor, ls *lazyScratch, i int, s string, fs []detect.Finding) slog.Value {
	s, _ = b.add(r, ls, i, s, fs)
	return slog.StringValue(s)
}

// done sets the strings of the batch: the message of rec and the values
// of attrs.
func (b *batch) done(ls *lazyScratch, rec *slog.Record, attrs []slog.Attr) {
	if b.n == 0 {
		return
	}
	sc := ls.sc // add took it
	all := string(sc.text)
	sc.text = sc.text[:0]
	for _, sp := range b.spans[:b.n] {
		if s := all[sp.start:sp.end]; sp.attr < 0 {
			rec.Message = s
		} else {
			attrs[sp.attr].Value = slog.StringValue(s)
		}
	}
}

// WithAttrs returns a Handler whose next handler has attrs, redacted.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	sc := getScratch()
	defer putScratch(sc)
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i], _ = h.attr(a, sc, 0)
	}
	return &Handler{next: h.next.WithAttrs(out), r: h.r, hidden: h.hidden}
}

// WithGroup returns a Handler whose next handler has the group name.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	hidden := h.hidden || h.r.keys.match(name)
	if _, found := h.r.keys.verdict(name); found {
		name = h.r.String(name)
	}
	return &Handler{next: h.next.WithGroup(name), r: h.r, hidden: hidden}
}

// maxGroupDepth is how deep groups are redacted; deeper values are
// replaced whole.
const maxGroupDepth = 32

var redactedValue = slog.StringValue(redacted)

// attr returns a redacted and whether it changed.
func (h *Handler) attr(a slog.Attr, sc *scratch, depth int) (slog.Attr, bool) {
	secret, found := h.key(a.Key)
	if found {
		a.Key, _ = h.r.redactString(a.Key, sc)
	}
	if secret || h.hidden || depth > maxGroupDepth {
		if a.Value.Kind() == slog.KindString && a.Value.String() == redacted || ignored(a) {
			return a, found
		}
		a.Value = redactedValue
		return a, true
	}
	v, ok := h.value(a.Value, sc, depth)
	a.Value = v
	return a, ok || found
}

// minScannedInt is the smallest magnitude of an integer that is scanned.
const minScannedInt = 1_000_000

// value returns v redacted and whether it changed.
func (h *Handler) value(v slog.Value, sc *scratch, depth int) (slog.Value, bool) {
	switch v.Kind() {
	case slog.KindString:
		if s, ok := h.r.redactString(v.String(), sc); ok {
			return slog.StringValue(s), true
		}
	case slog.KindInt64:
		if n := v.Int64(); n >= minScannedInt || n <= -minScannedInt {
			var buf [24]byte
			return h.scanned(v, strconv.AppendInt(buf[:0], n, 10), sc)
		}
	case slog.KindUint64:
		if n := v.Uint64(); n >= minScannedInt {
			var buf [24]byte
			return h.scanned(v, strconv.AppendUint(buf[:0], n, 10), sc)
		}
	case slog.KindLogValuer:
		// Pass the resolved value on even if nothing in it changes, so
		// that what is written is what was scanned.
		switch v.Any().(type) {
		case pii.Email, pii.Phone, pii.CardNumber, pii.Secret, pii.Text:
			// Masked by design; a masked e-mail address keeps its
			// domain, which the scanner would take for an address.
			return v.Resolve(), true
		}
		rv, _ := h.value(v.Resolve(), sc, depth)
		return rv, true
	case slog.KindGroup:
		attrs := v.Group()
		var out []slog.Attr
		for i, a := range attrs {
			a, ok := h.attr(a, sc, depth+1)
			if ok && out == nil {
				out = make([]slog.Attr, len(attrs))
				copy(out, attrs)
			}
			if out != nil {
				out[i] = a
			}
		}
		if out != nil {
			return slog.GroupValue(out...), true
		}
	case slog.KindAny:
		return h.anyValue(v, sc)
	}
	return v, false
}

// scanned returns text redacted, as a string value, if the scanner finds
// anything in it, and v otherwise.
func (h *Handler) scanned(v slog.Value, text []byte, sc *scratch) (slog.Value, bool) {
	if sc.fs = h.r.scanner.AppendScan(sc.fs[:0], text); len(sc.fs) == 0 {
		return v, false
	}
	return slog.StringValue(sc.string(redact(h.r, sc.buf[:0], text, sc, nil))), true
}

// anyValue redacts a value of kind Any.
func (h *Handler) anyValue(v slog.Value, sc *scratch) (slog.Value, bool) {
	// The next handler may write the value by MarshalText (slog's text
	// handler, and encoding/json) or MarshalJSON (slog's JSON handler)
	// rather than as String or Error show it: what they write is scanned
	// too, and the value replaced by its redacted form if anything is
	// found there.
	if m, ok := v.Any().(encoding.TextMarshaler); ok {
		if b, ok := safely(m.MarshalText); ok {
			if rv, changed := h.scanned(v, b, sc); changed {
				return rv, true
			}
		}
	}
	if m, ok := v.Any().(json.Marshaler); ok {
		if b, ok := safely(m.MarshalJSON); ok {
			if rv, changed := h.scanned(v, b, sc); changed {
				return rv, true
			}
		}
	}
	var f func() string
	composite := false // what f renders, encoding/json renders otherwise
	switch x := v.Any().(type) {
	case nil:
		return v, false
	case error:
		f = x.Error
	case fmt.Stringer:
		f = x.String
		composite = isComposite(reflect.ValueOf(x))
	case []byte:
		return h.scanned(v, x, sc)
	default:
		switch rv := reflect.ValueOf(x); rv.Kind() {
		case reflect.String:
			f = rv.String
		case reflect.Slice:
			if rv.Type().Elem().Kind() == reflect.Uint8 { // json.RawMessage, say
				return h.scanned(v, rv.Bytes(), sc)
			}
			fallthrough
		case reflect.Struct, reflect.Map, reflect.Array, reflect.Pointer, reflect.Interface:
			budget := maxPrintCheck
			if loops(rv, 0, &budget) {
				// fmt would recurse until the stack overflows.
				return redactedValue, true
			}
			f = func() string { return fmt.Sprintf("%+v", x) }
			composite = true
		default:
			return v, false
		}
	}
	text, ok := safely(func() (string, error) { return f(), nil })
	if !ok {
		// Do not let the next handler print the panic, which may hold
		// anything; a nil pointer prints as slog's handlers print it.
		if rv := reflect.ValueOf(v.Any()); rv.Kind() == reflect.Pointer && rv.IsNil() {
			return slog.StringValue("<nil>"), true
		}
		return redactedValue, true
	}
	if s, ok := h.r.redactString(text, sc); ok {
		return slog.StringValue(s), true
	}
	if composite {
		// A slog.JSONHandler writes the value with encoding/json, which
		// shows the exported fields of a struct whose String method
		// shows nothing, and of the elements of a slice or map that fmt
		// shows through their String methods: that is scanned too.
		x := v.Any()
		if b, ok := safely(func() ([]byte, error) { err := sc.jsonEncoder().Encode(x); return sc.js.Bytes(), err }); ok {
			return h.scanned(v, b, sc)
		}
	}
	return v, false
}

// isComposite reports whether v is a struct, map, slice or array, or a
// pointer to one: a value encoding/json writes field by field or element
// by element.
func isComposite(v reflect.Value) bool {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return false
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Struct, reflect.Map, reflect.Slice, reflect.Array:
		return true
	}
	return false
}

// Limits of loops: how many values it looks at, at most, and how deep a
// value it lets fmt print.
const (
	maxPrintCheck = 4096
	maxPrintDepth = 100
)

// loops reports whether fmt, printing v, would go deeper than
// maxPrintDepth levels, as it does for a map or slice that holds itself
// (fmt follows pointers only at the top, so they make no loop). It gives
// up, reporting false, after looking at *budget values.
func loops(v reflect.Value, depth int, budget *int) bool {
	if *budget--; *budget < 0 {
		return false
	}
	if depth > maxPrintDepth {
		return true
	}
	switch v.Kind() {
	case reflect.Pointer:
		return depth == 0 && !v.IsNil() && loops(v.Elem(), depth+1, budget)
	case reflect.Interface:
		return !v.IsNil() && loops(v.Elem(), depth+1, budget)
	case reflect.Struct:
		for i := range v.NumField() {
			if loops(v.Field(i), depth+1, budget) {
				return true
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if loops(v.Index(i), depth+1, budget) {
				return true
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if loops(it.Key(), depth+1, budget) || loops(it.Value(), depth+1, budget) {
				return true
			}
		}
	}
	return false
}

// safely returns what f returns, and false if f fails or panics (as a
// String method of a nil pointer may, or a MarshalJSON method).
func safely[T any](f func() (T, error)) (v T, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	v, err := f()
	return v, err == nil
}
