package retention

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// DirTarget is a [Target] for files in a directory and its
// subdirectories, such as uploaded log files or back-up archives, judged
// by their modification time (for both [SinceCreated] and
// [SinceLastActivity]). A record's ID is the file's path relative to the
// directory, with slashes. It can only [Delete]; files have no subject.
type DirTarget struct {
	dir     string
	pattern string
}

var (
	_ Target        = (*DirTarget)(nil)
	_ PolicyChecker = (*DirTarget)(nil)
)

// NewDirTarget returns a target for the files under dir whose names match
// pattern (a [filepath.Match] pattern such as "*.log"; "" matches every
// file). It returns an error if dir is not a directory or pattern is
// malformed.
func NewDirTarget(dir, pattern string) (*DirTarget, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("retention: directory target: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("retention: directory target: %s is not a directory", dir)
	}
	if _, err := filepath.Match(pattern, ""); err != nil {
		return nil, fmt.Errorf("retention: directory target: pattern: %w", err)
	}
	return &DirTarget{dir: dir, pattern: pattern}, nil
}

// CheckPolicy implements [PolicyChecker]: a DirTarget can only delete, by
// modification time.
func (t *DirTarget) CheckPolicy(p Policy) error {
	var errs []string
	if p.Action != Delete {
		errs = append(errs, fmt.Sprintf("a directory target cannot %s, only delete", string(p.Action)))
	}
	if p.Since == SinceEvent {
		errs = append(errs, "files have no subject, so a period since an event cannot apply")
	}
	if errs != nil {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// Candidates implements [Target].
func (t *DirTarget) Candidates(ctx context.Context, q Query) ([]Candidate, error) {
	var out []Candidate
	err := filepath.WalkDir(t.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		id, c, ok, err := t.file(path, d, q)
		if err != nil || !ok || id <= q.After {
			return err
		}
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("retention: listing %s: %w", t.dir, err)
	}
	slices.SortFunc(out, func(a, b Candidate) int { return strings.Compare(a.ID, b.ID) })
	if len(out) > q.Limit {
		out = out[:max(q.Limit, 0)]
	}
	return out, nil
}

// file returns the candidate for the file at path, and whether q selects
// it.
func (t *DirTarget) file(path string, d fs.DirEntry, q Query) (string, Candidate, bool, error) {
	if t.pattern != "" {
		if ok, _ := filepath.Match(t.pattern, d.Name()); !ok {
			return "", Candidate{}, false, nil
		}
	}
	rel, err := filepath.Rel(t.dir, path)
	if err != nil {
		return "", Candidate{}, false, err
	}
	id := filepath.ToSlash(rel)
	fi, err := d.Info()
	if errors.Is(err, fs.ErrNotExist) {
		return "", Candidate{}, false, nil // removed meanwhile
	}
	if err != nil {
		return "", Candidate{}, false, err
	}
	mt := fi.ModTime().UTC()
	if !q.Selects("", mt, mt) {
		return "", Candidate{}, false, nil
	}
	c := Candidate{ID: id}
	if !q.All {
		c.Time = mt
	}
	return id, c, true, nil
}

// Dispose implements [Target]: it removes each file of the batch that q
// still selects (its modification time has not moved on).
func (t *DirTarget) Dispose(ctx context.Context, b Batch) ([]string, error) {
	if b.Action != Delete {
		return nil, fmt.Errorf("retention: a directory target cannot %s", string(b.Action))
	}
	var done []string
	for _, c := range b.Records {
		if err := ctx.Err(); err != nil {
			return done, err
		}
		// A path inside the directory: no ".." element, not absolute. A
		// name that merely contains ".." ("a..log") is one.
		if !filepath.IsLocal(filepath.FromSlash(c.ID)) {
			return done, fmt.Errorf("retention: a record ID is not a path inside %s", t.dir)
		}
		path := filepath.Join(t.dir, filepath.FromSlash(c.ID))
		fi, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return done, err
		}
		mt := fi.ModTime().UTC()
		if !fi.Mode().IsRegular() || !b.Query.Selects("", mt, mt) {
			continue
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return done, fmt.Errorf("retention: removing a file: %w", err)
		}
		done = append(done, c.ID)
	}
	return done, nil
}
