package redact

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"sync"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/pii"
	"github.com/dataward/dataward/pii/detect"
)

// Struct redacts, in place, the struct v points to, and what it reaches
// through exported fields: nested structs, pointers, interfaces, slices,
// arrays and the values of maps.
//
//   - A field marked with a `pii` tag (see [pii.TaggedFields]) is replaced
//     whole by the strategy of its type, whatever it holds. Its type is
//     the one its data category names (user.contact.email is an e-mail
//     address, user.contact.phone_number a phone number,
//     user.financial.credit_card a card number, user.financial.bank_account
//     an IBAN, user.device.ip_address an IP address) or else the
//     [detect.Type] of its tag name: `pii:"email"` is [detect.Email],
//     `pii:"notes"` the type "notes", tagged "[NOTES]". A value that is
//     already a replacement for its type is left as it is.
//   - A field or a map entry whose name names a secret, as attribute keys
//     do for [Redactor.Handler] (the Go name, the `pii` tag name or the
//     `json` tag name), becomes "[REDACTED]" if it holds text, and its zero
//     value otherwise; so do fields tagged with the data categories
//     user.authorization.password and user.authorization.credentials.
//   - Every other string and []byte is scanned and redacted as
//     [Redactor.String] does.
//
// Empty values and nil pointers stay as they are; a replaced *string
// field gets a new pointer, and a []byte field a new slice, so the old
// ones are not written to. Unexported fields are left alone (a `pii` tag
// on one is an error), and so are map keys. Struct follows each pointer
// once, so cycles end.
//
// Returns a [*dataward.ValidationError] (matched by [dataward.ErrInvalid]),
// changing nothing, if v is not a non-nil pointer to a struct, if a `pii`
// tag is wrong (naming every bad field), or if v nests more than 100
// levels deep.
func (r *Redactor) Struct(v any) error {
	rv := reflect.ValueOf(v)
	ve := &dataward.ValidationError{Package: "redact"}
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return ve.Add("value", fmt.Sprintf("must be a non-nil pointer to a struct, not %T", v))
	}
	check := walker{r: r, ve: ve}
	check.walk(rv, 0)
	if err := ve.Err(); err != nil {
		return err
	}
	sc := getScratch()
	defer putScratch(sc)
	apply := walker{r: r, sc: sc}
	apply.walk(rv, 0)
	return nil
}

// maxStructDepth is how deep Struct goes.
const maxStructDepth = 100

// A walker goes through a value, first to check it (sc nil), then to
// redact it.
type walker struct {
	r      *Redactor
	sc     *scratch // nil when checking
	ve     *dataward.ValidationError
	seen   map[any]bool // pointers followed and maps entered, and struct types with problems
	tooBig bool
}

type seenPointer struct {
	p uintptr
	t reflect.Type
}

// once reports whether key is seen for the first time.
func (w *walker) once(key any) bool {
	if w.seen[key] {
		return false
	}
	if w.seen == nil {
		w.seen = make(map[any]bool)
	}
	w.seen[key] = true
	return true
}

func (w *walker) walk(v reflect.Value, depth int) {
	if depth > maxStructDepth {
		if w.ve != nil && !w.tooBig {
			w.tooBig = true
			w.ve.Add("value", fmt.Sprintf("nests more than %d levels deep", maxStructDepth))
		}
		return
	}
	switch v.Kind() {
	case reflect.String:
		if w.sc != nil && v.CanSet() {
			if s, ok := w.r.redactString(v.String(), w.sc); ok {
				v.SetString(s)
			}
		}
	case reflect.Pointer:
		if !v.IsNil() && w.once(seenPointer{v.Pointer(), v.Type()}) {
			w.walk(v.Elem(), depth+1)
		}
	case reflect.Interface:
		if v.IsNil() {
			return
		}
		e := v.Elem()
		if e.Kind() == reflect.Pointer || w.sc == nil {
			w.walk(e, depth+1)
			return
		}
		c := reflect.New(e.Type()).Elem()
		c.Set(e)
		w.walk(c, depth+1)
		if v.CanSet() {
			v.Set(c)
		}
	case reflect.Struct:
		w.structFields(v, depth)
	case reflect.Slice:
		if v.IsNil() {
			return
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			if w.sc != nil && v.CanSet() {
				b := v.Bytes()
				if w.sc.fs = w.r.scanner.AppendScan(w.sc.fs[:0], b); len(w.sc.fs) > 0 {
					v.SetBytes(redact(w.r, nil, b, w.sc, nil))
				}
			}
			return
		}
		fallthrough
	case reflect.Array:
		if !holdsText(v.Type().Elem()) {
			return
		}
		for i := range v.Len() {
			w.walk(v.Index(i), depth+1)
		}
	case reflect.Map:
		if v.IsNil() || !holdsText(v.Type().Elem()) || !w.once(v.UnsafePointer()) {
			return
		}
		for _, k := range v.MapKeys() {
			e := v.MapIndex(k)
			if k.Kind() == reflect.String && w.r.keys.match(k.String()) {
				if w.sc != nil {
					v.SetMapIndex(k, hidden(e))
				}
				continue
			}
			c := reflect.New(e.Type()).Elem()
			c.Set(e)
			w.walk(c, depth+1)
			if w.sc != nil {
				v.SetMapIndex(k, c)
			}
		}
	}
}

// holdsText reports whether a value of type t may hold text to redact.
func holdsText(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128,
		reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return false
	}
	return true
}

func (w *walker) structFields(v reflect.Value, depth int) {
	p := w.r.plan(v.Type())
	if p.err != nil {
		if w.ve != nil && w.once(v.Type()) {
			var ve *dataward.ValidationError
			if errors.As(p.err, &ve) {
				w.ve.Problems = append(w.ve.Problems, ve.Problems...)
			} else {
				w.ve.Add(v.Type().String(), p.err.Error())
			}
		}
		return
	}
	for _, f := range p.fields {
		fv := v.Field(f.index)
		switch {
		case f.hide:
			if w.sc != nil && fv.CanSet() {
				fv.Set(hidden(fv))
			}
		case f.tagged:
			if w.sc != nil && fv.CanSet() {
				w.tagged(fv, f.typ)
			}
		default:
			w.walk(fv, depth+1)
		}
	}
}

// hidden returns what replaces v, the value of a field or map entry whose
// name names a secret: "[REDACTED]" in place of text, the zero value in
// place of anything else, and v itself if it is empty.
func hidden(v reflect.Value) reflect.Value {
	t := v.Type()
	switch {
	case v.IsZero():
		return v
	case t.Kind() == reflect.String:
		return reflect.ValueOf(redacted).Convert(t)
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		return reflect.ValueOf([]byte(redacted)).Convert(t)
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.String:
		p := reflect.New(t.Elem())
		p.Elem().SetString(redacted)
		return p
	case t.Kind() == reflect.Interface && reflect.TypeFor[string]().Implements(t):
		return reflect.ValueOf(redacted)
	}
	return reflect.Zero(t)
}

// tagged replaces the value of fv, a field with a `pii` tag (so a string,
// a []byte or a *string), by the strategy of t.
func (w *walker) tagged(fv reflect.Value, t detect.Type) {
	switch fv.Kind() {
	case reflect.String:
		if s := fv.String(); s != "" && !isReplacement(t, s) {
			fv.SetString(w.r.replacement(t, s))
		}
	case reflect.Slice:
		if b := fv.Bytes(); len(b) > 0 && !isReplacement(t, string(b)) {
			fv.SetBytes([]byte(w.r.replacement(t, string(b))))
		}
	case reflect.Pointer:
		if fv.IsNil() {
			return
		}
		if s := fv.Elem().String(); s != "" && !isReplacement(t, s) {
			p := reflect.New(fv.Type().Elem())
			p.Elem().SetString(w.r.replacement(t, s))
			fv.Set(p)
		}
	}
}

// replacement returns what replaces the whole value v of type t. An IP
// address is of the type of its family.
func (r *Redactor) replacement(t detect.Type, v string) string {
	if t == detect.IPv4 || t == detect.IPv6 {
		if a, err := netip.ParseAddr(v); err == nil && a.Is6() {
			t = detect.IPv6
		} else {
			t = detect.IPv4
		}
	}
	return string(r.appendReplacement(nil, t, v))
}

// structPlan says what Struct does with each exported field of a struct
// type.
type structPlan struct {
	fields []fieldPlan
	err    error // the problems of the type's `pii` tags
}

type fieldPlan struct {
	index  int
	hide   bool        // the name names a secret
	tagged bool        // the field has a `pii` tag
	typ    detect.Type // of a tagged field
}

// categoryTypes are the types of the fideslang data categories of `pii`
// tags that a detect.Type stands for; "" hides the field.
var categoryTypes = map[string]detect.Type{
	"user.contact.email":             detect.Email,
	"user.contact.phone_number":      detect.Phone,
	"user.financial.credit_card":     detect.Card,
	"user.financial.bank_account":    detect.IBAN,
	"user.device.ip_address":         detect.IPv4,
	"user.authorization.password":    "",
	"user.authorization.credentials": "",
}

// plans caches structPlans by type, per Redactor (whose Keys they depend
// on).
type plans struct{ m sync.Map }

// plan returns the plan of the struct type t.
func (r *Redactor) plan(t reflect.Type) *structPlan {
	if p, ok := r.plans.m.Load(t); ok {
		return p.(*structPlan)
	}
	p, _ := r.plans.m.LoadOrStore(t, r.makePlan(t))
	return p.(*structPlan)
}

func (r *Redactor) makePlan(t reflect.Type) *structPlan {
	tags, err := pii.TaggedFields(reflect.New(t).Interface())
	if err != nil {
		return &structPlan{err: err}
	}
	byName := make(map[string]pii.TaggedField, len(tags))
	for _, tf := range tags {
		byName[tf.GoName] = tf
	}
	var p structPlan
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		f := fieldPlan{index: i}
		jsonName, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		f.hide = r.keys.match(sf.Name) || jsonName != "" && r.keys.match(jsonName)
		if tf, ok := byName[sf.Name]; ok {
			f.tagged = true
			f.typ = detect.Type(tf.Name)
			if ct, ok := categoryTypes[tf.Category]; ok {
				f.typ = ct
				f.hide = f.hide || ct == ""
			}
			f.hide = f.hide || r.keys.match(tf.Name)
		}
		if !f.hide && !f.tagged && !holdsText(sf.Type) {
			continue
		}
		p.fields = append(p.fields, f)
	}
	return &p
}
