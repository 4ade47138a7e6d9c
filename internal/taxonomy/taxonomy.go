// Package taxonomy holds the keys of the fideslang taxonomy of data
// categories (such as "user.contact.email") and data uses (such as
// "marketing.communications.email"), so that a host's configuration is
// compatible with tools that speak fideslang.
package taxonomy

import (
	_ "embed"
	"strings"
)

var (
	//go:embed taxonomy-data-categories.txt
	categoriesText string
	//go:embed taxonomy-data-uses.txt
	usesText string

	categories = parse(categoriesText)
	uses       = parse(usesText)
)

func parse(text string) map[string]bool {
	m := make(map[string]bool)
	for line := range strings.Lines(text) {
		if k := strings.TrimSpace(line); k != "" {
			m[k] = true
		}
	}
	return m
}

// IsCategory reports whether key is a fideslang data category key.
func IsCategory(key string) bool { return categories[key] }

// IsUse reports whether key is a fideslang data use key.
func IsUse(key string) bool { return uses[key] }
