// Package valid turns go-playground/validator struct tags into the
// project's [dataward.ValidationError], with messages of our own: the raw
// validator messages never reach callers, and values are never repeated.
package valid

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/dataward/dataward"
	"github.com/go-playground/validator/v10"
)

var (
	once sync.Once
	v    *validator.Validate
)

func instance() *validator.Validate {
	once.Do(func() {
		v = validator.New(validator.WithRequiredStructEnabled())
	})
	return v
}

// Struct validates s (a struct or a pointer to one) against its `validate`
// tags and returns a *dataward.ValidationError for package pkg listing every
// broken rule, or nil. Field names are reported as prefix + "." + the Go
// field path, e.g. "Options.CacheTTL".
func Struct(pkg, prefix string, s any) error {
	err := instance().Struct(s)
	if err == nil {
		return nil
	}
	var fes validator.ValidationErrors
	if !errors.As(err, &fes) {
		// InvalidValidationError: a programming error in the caller of Struct.
		return &dataward.ValidationError{Package: pkg, Problems: []dataward.Problem{{Field: prefix, Message: "cannot be validated"}}}
	}
	ve := &dataward.ValidationError{Package: pkg}
	for _, fe := range fes {
		ns := fe.StructNamespace()
		if i := strings.IndexByte(ns, '.'); i >= 0 {
			ns = ns[i+1:] // drop the struct type name
		}
		if prefix != "" {
			ns = prefix + "." + ns
		}
		ve.Add(ns, message(fe))
	}
	return ve
}

// message writes a message for one broken rule without repeating the value.
func message(fe validator.FieldError) string {
	p := fe.Param()
	switch fe.Tag() {
	case "required":
		return "is required"
	case "min", "gte":
		return "must be at least " + p
	case "max", "lte":
		return "must be at most " + p
	case "gt":
		return "must be greater than " + p
	case "lt":
		return "must be less than " + p
	case "oneof":
		return "must be one of " + strings.ReplaceAll(p, " ", ", ")
	case "printascii":
		return "must be printable ASCII"
	default:
		return fmt.Sprintf("breaks rule %q", fe.Tag())
	}
}
