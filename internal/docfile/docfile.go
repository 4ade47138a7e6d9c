// Package docfile decodes the configuration documents of dataward's
// packages (rbac policies, retention schedules) from YAML or JSON, refusing
// unknown fields and naming the place of every problem: a syntax error by
// its line and column, and each problem of a document that decodes but is
// invalid by its path ("roles[2].inherits[0]") and, in YAML, its line.
package docfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/dataward/dataward"
)

// Doc names what is decoded, for error messages.
type Doc struct {
	Package string // the reporting package, e.g. "rbac"
	Noun    string // what the document is, e.g. "policy"
}

// YAML decodes data into v, then calls validate, which must return nil or
// a *dataward.ValidationError whose fields are paths in the document; each
// field gets the line and column of its node (or of its nearest ancestor).
func (d Doc) YAML(data []byte, v any, validate func() error) error {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return fmt.Errorf("%s: %s is not valid YAML: %w", d.Package, d.Noun, err)
	}
	if len(root.Content) > 0 {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(v); err != nil {
			var te *yaml.TypeError
			if !errors.As(err, &te) {
				return fmt.Errorf("%s: %s is not valid YAML: %w", d.Package, d.Noun, err)
			}
			ve := &dataward.ValidationError{Package: d.Package}
			for _, msg := range te.Errors {
				ve.Add(d.Noun, strings.TrimPrefix(msg, "yaml: "))
			}
			return ve
		}
	}
	if err := validate(); err != nil {
		var ve *dataward.ValidationError
		if errors.As(err, &ve) {
			pos := make(map[string]string)
			if len(root.Content) > 0 {
				positions(root.Content[0], "", pos)
			}
			locate(ve, pos)
		}
		return err
	}
	return nil
}

// positions records the line and column of every node under n by its path
// ("roles[2].inherits[0]").
func positions(n *yaml.Node, path string, pos map[string]string) {
	pos[path] = fmt.Sprintf("line %d, column %d", n.Line, n.Column)
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			if path != "" {
				key = path + "." + key
			}
			positions(n.Content[i+1], key, pos)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			positions(c, path+"["+strconv.Itoa(i)+"]", pos)
		}
	}
}

// locate adds the position of each problem's path, or of its nearest
// ancestor, to the problem's field.
func locate(ve *dataward.ValidationError, pos map[string]string) {
	for i := range ve.Problems {
		p := &ve.Problems[i]
		for path := p.Field; ; {
			if at, ok := pos[path]; ok && path != "" {
				p.Field += " (" + at + ")"
				break
			}
			j := strings.LastIndexAny(path, ".[")
			if j < 0 {
				break
			}
			path = path[:j]
		}
	}
}

// JSON decodes data into v, refusing unknown fields and trailing values,
// then calls validate. A syntax error names its line and column; a value
// of the wrong type gets a *dataward.ValidationError naming its field and
// place.
func (d Doc) JSON(data []byte, v any, validate func() error) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := lineCol(data, se.Offset)
			return fmt.Errorf("%s: %s is not valid JSON: line %d, column %d: %w", d.Package, d.Noun, line, col, err)
		}
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			line, col := lineCol(data, ute.Offset)
			return (&dataward.ValidationError{Package: d.Package}).Add(ute.Field+fmt.Sprintf(" (line %d, column %d)", line, col), "must be a "+ute.Type.String())
		}
		return fmt.Errorf("%s: %s is not valid JSON: %w", d.Package, d.Noun, err)
	}
	if dec.More() {
		return fmt.Errorf("%s: %s is not valid JSON: more than one value", d.Package, d.Noun)
	}
	return validate()
}

// lineCol returns the position of the byte before offset, where the
// decoder stopped.
func lineCol(data []byte, offset int64) (line, col int) {
	offset = min(max(offset-1, 0), int64(len(data)))
	before := data[:offset]
	line = 1 + bytes.Count(before, []byte{'\n'})
	col = int(offset) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// File reads the file at path and decodes it: as JSON if its name ends in
// ".json", as YAML otherwise (YAML is a superset of JSON).
func (d Doc) File(path string, v any, validate func() error) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%s: reading the %s: %w", d.Package, d.Noun, err)
	}
	if strings.EqualFold(filepath.Ext(path), ".json") {
		return d.JSON(data, v, validate)
	}
	return d.YAML(data, v, validate)
}
