package pii

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"

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
	index int
	kind  fieldKind
}

type structPlan struct {
	fields []fieldPlan
	err    error
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
		fp := fieldPlan{index: i}
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
	return k.fields(ctx, "seal", subject, record, v)
}

// OpenFields opens, in place, every field of the struct v points to that
// carries a `pii` tag and was sealed by [Keyring.SealFields] with the same
// subject and record. Empty fields and nil pointers stay as they are; a
// clear value where a sealed one is expected is an error matching
// [ErrNotSealed]. Either every field is opened or, on error, none is
// changed. Errors are those of [Keyring.Open], naming the field.
func (k *Keyring) OpenFields(ctx context.Context, subject dataward.SubjectID, record string, v any) error {
	return k.fields(ctx, "open", subject, record, v)
}

func (k *Keyring) fields(ctx context.Context, op string, subject dataward.SubjectID, record string, v any) error {
	rv, p, err := structValue(v)
	if err != nil {
		return err
	}
	if err := checkArgs(subject, record, ""); err != nil {
		return err
	}
	for _, f := range p.fields {
		if fieldProblem(record, f.Name) != "" {
			return checkArgs(subject, record, f.Name)
		}
	}
	// Work out every new value before changing any, so that an error
	// leaves the struct as it was.
	type update struct {
		field reflect.Value
		kind  fieldKind
		str   string
		bytes []byte
	}
	updates := make([]update, 0, len(p.fields))
	var dk *dataKey
	for _, f := range p.fields {
		fv := rv.Field(f.index)
		var s string
		var b []byte
		switch f.kind {
		case kindString:
			s = fv.String()
		case kindStringPtr:
			if fv.IsNil() {
				continue
			}
			s = fv.Elem().String()
		case kindBytes:
			b = fv.Bytes()
		}
		if s == "" && len(b) == 0 {
			continue
		}
		if dk == nil {
			if dk, err = k.dataKey(ctx, subject, op == "seal"); err != nil {
				return &Error{Op: op, Field: record + "." + f.Name, Err: err}
			}
		}
		u := update{field: fv, kind: f.kind}
		if op == "seal" {
			if IsSealedString(s) || IsSealed(b) {
				err = ErrAlreadySealed
			} else if f.kind == kindBytes {
				u.bytes = sealTo(nil, dk, subject, record, f.Name, b)
			} else {
				u.str = sealText(dk, subject, record, f.Name, s)
			}
		} else {
			if f.kind == kindBytes {
				var id uint32
				if id, err = parse(b); err == nil {
					u.bytes, err = openWith(dk, nil, subject, record, f.Name, id, b)
				}
			} else {
				u.str, err = openTextWith(dk, subject, record, f.Name, s)
			}
		}
		if err != nil {
			return &Error{Op: op, Field: record + "." + f.Name, Err: err}
		}
		updates = append(updates, u)
	}
	for _, u := range updates {
		switch u.kind {
		case kindBytes:
			u.field.SetBytes(u.bytes)
		case kindStringPtr:
			s := u.str
			u.field.Set(reflect.ValueOf(&s))
		case kindString:
			u.field.SetString(u.str)
		}
	}
	return nil
}
