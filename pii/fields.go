package pii

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/dataward/dataward"
	"github.com/dataward/dataward/internal/taxonomy"
)

// A struct field is sealed by SealFields when it carries a `pii` tag:
//
//	type Customer struct {
//		ID    string
//		Email string `pii:"email,category=user.contact.email"`
//		Phone string `pii:"phone"`
//		Notes []byte `pii:"notes"`
//	}
//
// The tag's name (here "email") joins the record name given to SealFields
// to make the field context ("customer.email"); an empty name means the Go
// field name in lower case. Options follow the name, separated by commas:
//
//	category=<key>  the fideslang data category of the field, such as
//	                "user.contact.email" (see TaggedFields)
//
// Tagged fields must be exported and of a type whose kind is string, a
// []byte, or a *string.

// TaggedField describes a struct field marked with a `pii` tag.
type TaggedField struct {
	GoName   string // the Go field name, e.g. "Email"
	Name     string // the name in the field context, e.g. "email"
	Category string // the fideslang data category, or "" if not given
}

type fieldKind uint8

const (
	kindString fieldKind = iota + 1
	kindBytes
	kindStringPtr
)

type fieldPlan struct {
	TaggedField
	offset uintptr // of the field in its struct
	kind   fieldKind
}

type structPlan struct {
	fields      []fieldPlan
	longestName int // in bytes
	err         error
}

var plans sync.Map // reflect.Type -> *structPlan

// planFor returns the plan of struct type t, made once per type. A type
// whose tags are wrong gets a *dataward.ValidationError naming every bad
// field, the first time and every time after.
func planFor(t reflect.Type) *structPlan {
	if p, ok := plans.Load(t); ok {
		return p.(*structPlan)
	}
	p, _ := plans.LoadOrStore(t, makePlan(t))
	return p.(*structPlan)
}

var (
	bytesType     = reflect.TypeFor[[]byte]()
	stringPtrType = reflect.TypeFor[*string]()
)

func makePlan(t reflect.Type) *structPlan {
	ve := &dataward.ValidationError{Package: "pii"}
	var p structPlan
	seen := make(map[string]string)
	for i := range t.NumField() {
		sf := t.Field(i)
		tag, ok := sf.Tag.Lookup("pii")
		if !ok {
			continue
		}
		where := t.Name() + "." + sf.Name
		fp := fieldPlan{offset: sf.Offset}
		fp.GoName = sf.Name
		name, opts, _ := strings.Cut(tag, ",")
		fp.Name = name
		if name == "" {
			fp.Name = strings.ToLower(sf.Name)
		}
		switch {
		case sf.Type.Kind() == reflect.String:
			fp.kind = kindString
		case sf.Type == bytesType || (sf.Type.Kind() == reflect.Slice && sf.Type.Elem().Kind() == reflect.Uint8):
			fp.kind = kindBytes
		case sf.Type == stringPtrType:
			fp.kind = kindStringPtr
		default:
			ve.Add(where, fmt.Sprintf("has type %s; pii tags support string, []byte and *string fields", sf.Type))
		}
		if !sf.IsExported() {
			ve.Add(where, "is unexported; pii tags need exported fields")
		}
		if msg := fieldProblem(fp.Name, ""); msg != "" {
			ve.Add(where, "tag name "+msg)
		} else if strings.ContainsAny(fp.Name, " ,") {
			ve.Add(where, "tag name contains a space or comma")
		}
		if prev, dup := seen[fp.Name]; dup {
			ve.Add(where, fmt.Sprintf("tag name %q is also used by %s", fp.Name, prev))
		}
		seen[fp.Name] = sf.Name
		for opt := range strings.SplitSeq(opts, ",") {
			if opt == "" {
				continue
			}
			key, val, _ := strings.Cut(opt, "=")
			switch key {
			case "category":
				if !taxonomy.IsCategory(val) {
					ve.Add(where, fmt.Sprintf("tag option category=%q is not a fideslang data category", val))
				}
				fp.Category = val
			default:
				ve.Add(where, fmt.Sprintf("tag has unknown option %q", opt))
			}
		}
		p.fields = append(p.fields, fp)
		p.longestName = max(p.longestName, len(fp.Name))
	}
	p.err = ve.Err()
	return &p
}

// structValue checks that v is a non-nil pointer to a struct and returns the
// struct and its plan.
func structValue(v any) (reflect.Value, *structPlan, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return reflect.Value{}, nil, invalid("value", fmt.Sprintf("must be a non-nil pointer to a struct, not %T", v))
	}
	rv = rv.Elem()
	p := planFor(rv.Type())
	return rv, p, p.err
}

// TaggedFields describes the fields of v's struct type that carry a `pii`
// tag. v is a struct or a pointer to one. Returns a
// *dataward.ValidationError naming every badly tagged field.
func TaggedFields(v any) ([]TaggedField, error) {
	t := reflect.TypeOf(v)
	if t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil, invalid("value", fmt.Sprintf("must be a struct or a pointer to one, not %T", v))
	}
	p := planFor(t)
	if p.err != nil {
		return nil, p.err
	}
	out := make([]TaggedField, len(p.fields))
	for i, f := range p.fields {
		out[i] = f.TaggedField
	}
	return out, nil
}

// SealFields seals, in place, every field of the struct v points to that
// carries a `pii` tag, for subject. Each field is bound to the context
// record + "." + its tag name, so SealFields(ctx, s, "customer", &c) seals
// c.Email as "customer.email"; [Keyring.OpenString] with that context opens
// it. String fields receive the text form, []byte fields the binary form.
// Empty fields and nil pointers stay as they are.
//
// Either every field is sealed or, on error, none is changed. A field that
// already holds a sealed value is an error ([ErrAlreadySealed]), so that
// sealing twice never hides a value under two layers. Returns a
// *dataward.ValidationError if v is not a pointer to a struct, if a tag is
// wrong (naming every bad field), or if subject or record is bad.
func (k *Keyring) SealFields(ctx context.Context, subject dataward.SubjectID, record string, v any) error {
	rv, p, err := prepareFields(subject, record, v)
	if err != nil {
		return err
	}
	return k.sealFields(ctx, subject, record, rv, p)
}

// OpenFields opens, in place, every field of the struct v points to that
// carries a `pii` tag and was sealed by [Keyring.SealFields] with the same
// subject and record. Empty fields and nil pointers stay as they are; a
// clear value where a sealed one is expected is an error matching
// [ErrNotSealed]. Either every field is opened or, on error, none is
// changed. Errors are those of [Keyring.Open], naming the field.
func (k *Keyring) OpenFields(ctx context.Context, subject dataward.SubjectID, record string, v any) error {
	rv, p, err := prepareFields(subject, record, v)
	if err != nil {
		return err
	}
	return k.openFields(ctx, subject, record, rv, p)
}

// prepareFields checks the arguments of SealFields and OpenFields and
// returns a pointer to the struct and its plan.
func prepareFields(subject dataward.SubjectID, record string, v any) (unsafe.Pointer, *structPlan, error) {
	rv, p, err := structValue(v)
	if err != nil {
		return nil, nil, err
	}
	if err := checkArgs(subject, record, ""); err != nil {
		return nil, nil, err
	}
	// The tag names were checked when the plan was made; only the length
	// of record.name is left.
	if len(record)+1+p.longestName > MaxFieldLen {
		for _, f := range p.fields {
			if fieldProblem(record, f.Name) != "" {
				return nil, nil, checkArgs(subject, record, f.Name)
			}
		}
	}
	return rv.Addr().UnsafePointer(), p, nil
}

// fieldWork is one field of a struct being sealed or opened: where it is,
// its value now and, once worked out, its new value.
type fieldWork struct {
	plan   *fieldPlan
	ptr    unsafe.Pointer // to the field
	str    string         // the value of a string or *string field
	bytes  []byte         // the value of a []byte field
	newStr string
	newBuf []byte
}

// The fields are read and written through their offsets rather than
// through reflect.Value, which would cost more than encoding them. This is
// safe because makePlan admits only three layouts, the kind of the field's
// type decides which, and v is a non-nil pointer to a struct of the planned
// type: a string (any type of kind string), a []byte (any slice of a kind
// uint8 element), or a *string. The stores below are typed, so the garbage
// collector sees them as it sees any other.

// collect returns the non-empty tagged fields of the struct at base, using
// buf's storage when it is large enough.
func collect(base unsafe.Pointer, p *structPlan, buf []fieldWork) []fieldWork {
	work := buf[:0]
	for i := range p.fields {
		f := &p.fields[i]
		w := fieldWork{plan: f, ptr: unsafe.Add(base, f.offset)}
		switch f.kind {
		case kindString:
			w.str = *(*string)(w.ptr)
		case kindStringPtr:
			if sp := *(**string)(w.ptr); sp != nil {
				w.str = *sp
			}
		case kindBytes:
			w.bytes = *(*[]byte)(w.ptr)
		}
		if w.str != "" || len(w.bytes) > 0 {
			work = append(work, w)
		}
	}
	return work
}

// apply stores the new values, once every one is known.
func apply(work []fieldWork) {
	for i := range work {
		w := &work[i]
		switch w.plan.kind {
		case kindBytes:
			*(*[]byte)(w.ptr) = w.newBuf
		case kindStringPtr:
			s := w.newStr
			*(**string)(w.ptr) = &s
		case kindString:
			*(*string)(w.ptr) = w.newStr
		}
	}
}

// sealFields seals the fields of one struct. It costs less than sealing them
// one by one: one draw from the random source, one scratch buffer, and one
// allocation for all the text results (the sealed strings of a struct share
// their memory, as they share their struct).
//
// The nonce of the i-th field is a random 96-bit nonce drawn for the struct
// with i XORed into its last four bytes: distinct within the struct, and as
// unlikely to repeat across structs as independent random nonces (a repeat
// needs two draws to differ only in bits that field indices reach). Drawing
// twelve random bytes per field costs more than encrypting the field.
func (k *Keyring) sealFields(ctx context.Context, subject dataward.SubjectID, record string, base unsafe.Pointer, p *structPlan) error {
	var buf [16]fieldWork
	work := collect(base, p, buf[:])
	if len(work) == 0 {
		return nil
	}
	text, longest := 0, 0
	for i := range work {
		w := &work[i]
		if IsSealedString(w.str) || IsSealed(w.bytes) {
			return &Error{Op: "seal", Field: record + "." + w.plan.Name, Err: ErrAlreadySealed}
		}
		if w.plan.kind != kindBytes {
			text += textLen(len(w.str))
		}
		longest = max(longest, len(w.str), len(w.bytes))
	}
	dk, err := k.dataKey(ctx, subject, true)
	if err != nil {
		return &Error{Op: "seal", Field: record + "." + work[0].plan.Name, Err: err}
	}

	scratch := getBuf()
	defer putBuf(scratch)
	// Room for the longest field's sealed value and associated data.
	*scratch = slices.Grow((*scratch)[:0], Overhead+longest+adSize(subject, record, "")+1+p.longestName)
	var first, nonce [nonceSize]byte
	rand.Read(first[:])
	out := make([]byte, text)
	for i := range work {
		w := &work[i]
		nonce = first
		binary.BigEndian.PutUint32(nonce[nonceSize-4:], binary.BigEndian.Uint32(first[nonceSize-4:])^uint32(i))
		if w.plan.kind == kindBytes {
			w.newBuf = sealWith(nil, *scratch, dk, subject, record, w.plan.Name, w.bytes, nonce[:])
		} else {
			end := Overhead + len(w.str)
			sealed := sealWith((*scratch)[:0], (*scratch)[end:end], dk, subject, record, w.plan.Name, readOnlyBytes(w.str), nonce[:])
			n := textLen(len(w.str))
			encodeText(out[:n], sealed)
			// out[:n] is never written again, so it can be a string.
			w.newStr = unsafe.String(&out[0], n)
			out = out[n:]
		}
	}
	apply(work)
	return nil
}

// openFields opens the fields of one struct.
func (k *Keyring) openFields(ctx context.Context, subject dataward.SubjectID, record string, base unsafe.Pointer, p *structPlan) error {
	var buf [16]fieldWork
	work := collect(base, p, buf[:])
	if len(work) == 0 {
		return nil
	}
	dk, err := k.dataKey(ctx, subject, false)
	if err != nil {
		return &Error{Op: "open", Field: record + "." + work[0].plan.Name, Err: err}
	}
	for i := range work {
		w := &work[i]
		if w.plan.kind == kindBytes {
			var id uint32
			if id, err = parse(w.bytes); err == nil {
				w.newBuf, err = openPooled(dk, nil, subject, record, w.plan.Name, id, w.bytes)
			}
		} else {
			w.newStr, err = openTextWith(dk, subject, record, w.plan.Name, w.str)
		}
		if err != nil {
			return &Error{Op: "open", Field: record + "." + w.plan.Name, Err: err}
		}
	}
	apply(work)
	return nil
}
