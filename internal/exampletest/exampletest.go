// Package exampletest runs the programs under examples/ in their tests.
package exampletest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Output runs run with os.Stdout sent to a file, and returns what it
// printed. The test fails if run returns an error.
func Output(t *testing.T, run func(context.Context) error) string {
	t.Helper()
	out, err := os.Create(filepath.Join(t.TempDir(), "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	stdout := os.Stdout
	os.Stdout = out
	err = run(context.Background())
	os.Stdout = stdout
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	b, err := os.ReadFile(out.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Contains reports, as an error of t, each of wants that got does not
// contain.
func Contains(t *testing.T, got string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(got, want) {
			t.Errorf("the output lacks %q", want)
		}
	}
}
