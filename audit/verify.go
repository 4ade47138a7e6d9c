package audit

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"golang.org/x/mod/sumdb/tlog"
)

// DamageKind says how a log differs from what it committed to.
type DamageKind string

// The kinds of damage [Verify] reports.
const (
	Modified      DamageKind = "modified"   // an entry's content was changed
	Inserted      DamageKind = "inserted"   // an entry was added that the log never appended
	Deleted       DamageKind = "deleted"    // an entry was removed from the middle of the log
	Reordered     DamageKind = "reordered"  // entries were moved to other positions
	Truncated     DamageKind = "truncated"  // entries were removed from the end of the log
	BadHashes     DamageKind = "hashes"     // the stored tree hashes do not match the entries
	BadCheckpoint DamageKind = "checkpoint" // a checkpoint's signature or root does not hold
)

// ErrDamaged is matched by every *DamageError.
var ErrDamaged = errors.New("audit: the log was altered")

// DamageError reports the first position where a log was altered, and how.
type DamageError struct {
	Index  int64      // the first position affected
	Kind   DamageKind // how
	Detail string     // what was found, in words; never event content
}

// Error describes the damage: its kind, position and what was found.
func (e *DamageError) Error() string {
	return fmt.Sprintf("audit: the log was altered: %s at position %d: %s", e.Kind, e.Index, e.Detail)
}

// Is reports whether target is [ErrDamaged].
func (e *DamageError) Is(target error) bool { return target == ErrDamaged }

// VerifyOptions configure [Verify].
type VerifyOptions struct {
	// PublicKey verifies the signatures of the checkpoints in the store
	// and of Trusted ones (a note verifier key). Without it, the stored
	// checkpoints' roots are still checked, but a rewritten log with
	// rewritten checkpoints would pass.
	PublicKey string
	// Trusted are signed checkpoints kept outside the store (published,
	// mailed, held by an auditor). The log must hold every entry they
	// cover, unchanged: this is what catches a truncated tail, or a log
	// rewritten with its checkpoints by someone who controls the database.
	Trusted [][]byte
	// BatchSize is how many entries are read at a time (default 4096).
	BatchSize int
}

// VerifyReport says what [Verify] checked.
type VerifyReport struct {
	Size        int64     // entries verified
	Root        tlog.Hash // the tree hash of the whole log
	Checkpoints int       // checkpoints whose roots were checked
}

// Verify recomputes the Merkle tree of the log in store from its entries
// and checks it against everything the log committed to: the stored tree
// hashes, the checkpoints in the store, and opts.Trusted. It returns a
// *DamageError (matching [ErrDamaged]) naming the first position where the
// log was modified, inserted into, deleted from, reordered, or truncated
// at the tail (a truncation shows against a checkpoint of a larger size,
// which only a trusted one held outside the store can prove). Other errors
// are the store's.
//
// Erasure does not affect it: the tree commits to the protected form of
// each event, which shredding a subject does not change.
func Verify(ctx context.Context, store Store, opts *VerifyOptions) (VerifyReport, error) {
	var o VerifyOptions
	if opts != nil {
		o = *opts
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 4096
	}
	v := verifier{ctx: ctx, store: store, opts: o}
	return v.run()
}

type verifier struct {
	ctx   context.Context
	store Store
	opts  VerifyOptions

	// The recomputed tree: the right edge of stored hashes per level,
	// enough to compute the next record's hashes and any root so far.
	edge treeEdge
	// Checkpoints to check, by ascending size.
	checkpoints []Checkpoint
	trusted     int64 // the largest size among trusted checkpoints
}

func (v *verifier) run() (VerifyReport, error) {
	size, err := v.store.Size(v.ctx)
	if err != nil {
		return VerifyReport{}, err
	}
	if err := v.loadCheckpoints(); err != nil {
		return VerifyReport{}, err
	}
	report := VerifyReport{Size: size}
	next := 0 // index into v.checkpoints
	var window []Entry
	for start := int64(0); start < size; {
		// Read one batch, plus one entry of look-ahead for classifying
		// damage at the batch's end.
		n := int(min(int64(v.opts.BatchSize), size-start))
		entries, err := v.store.ReadEntries(v.ctx, start, n+1)
		if err != nil {
			return report, err
		}
		if len(entries) == 0 {
			// The store's size says more entries follow, but none does:
			// the last ones were removed, and not the size.
			return report, &DamageError{Index: start, Kind: Truncated,
				Detail: fmt.Sprintf("the log's size is %d, but its entries end at %d", size, start)}
		}
		window = append(window[:0], entries...)
		if len(window) > n {
			window = window[:n]
		}
		stored, missing, err := v.storedHashes(start, int64(len(window)))
		if err != nil {
			return report, err
		}
		if missing != nil {
			// Check the entries before the first one without hashes: an
			// earlier alteration is the one to report.
			window = window[:missing.Index-start]
		}
		var ahead []Entry
		if len(entries) > n {
			ahead = entries[n:]
		}
		k := 0 // position in stored
		for i, e := range window {
			p := start + int64(i)
			if e.Index != p {
				return report, &DamageError{Index: p, Kind: Deleted,
					Detail: fmt.Sprintf("no entry at this position (the next is at %d)", e.Index)}
			}
			hashes, err := tlog.StoredHashes(p, e.Data, v)
			if err != nil {
				return report, err
			}
			if len(hashes) > len(stored)-k {
				return report, &DamageError{Index: p, Kind: BadHashes, Detail: "stored tree hashes are missing"}
			}
			if embedded, ok := embeddedIndex(e.Data); !ok || embedded != p || hashes[0] != stored[k] {
				rest := append(window[i+1:len(window):len(window)], ahead...)
				return report, classify(p, e, rest, stored[k])
			}
			for j, h := range hashes {
				if h != stored[k+j] {
					return report, &DamageError{Index: p, Kind: BadHashes,
						Detail: "a stored interior tree hash does not match the entries"}
				}
				v.edge.add(StoredHash{tlog.StoredHashIndex(0, p) + int64(j), h})
			}
			k += len(hashes)
			// Every checkpoint of this size.
			for ; next < len(v.checkpoints) && v.checkpoints[next].Size == p+1; next++ {
				c := v.checkpoints[next]
				root, err := tlog.TreeHash(c.Size, v)
				if err != nil {
					return report, err
				}
				if root != c.Root {
					return report, &DamageError{Index: v.lastGood(next), Kind: Modified,
						Detail: fmt.Sprintf("the entries up to %d do not match the checkpoint of that size (stored hashes were rewritten to match)", c.Size)}
				}
				report.Checkpoints++
			}
		}
		if missing != nil {
			return report, v.explainMissing(missing, entries, start)
		}
		start += int64(len(window))
	}
	// A checkpoint larger than the log: its tail is gone. (Checked after
	// the scan, so that entries deleted from the middle are reported as
	// such rather than as a shorter log.)
	if n := len(v.checkpoints); n > 0 && v.checkpoints[n-1].Size > size {
		return report, &DamageError{Index: size, Kind: Truncated,
			Detail: fmt.Sprintf("the log holds %d entries, but a checkpoint covers %d", size, v.checkpoints[n-1].Size)}
	}
	// Nothing may follow the end of the log.
	if extra, err := v.store.ReadEntries(v.ctx, size, 1); err != nil {
		return report, err
	} else if len(extra) > 0 {
		return report, &DamageError{Index: size, Kind: Inserted, Detail: "an entry follows the end of the log"}
	}
	if size > 0 {
		root, err := tlog.TreeHash(size, v)
		if err != nil {
			return report, err
		}
		report.Root = root
	}
	return report, nil
}

// lastGood returns the first position not covered by the last checkpoint
// before checkpoints[i] that verified.
func (v *verifier) lastGood(i int) int64 {
	if i == 0 {
		return 0
	}
	return v.checkpoints[i-1].Size
}

// classify says what happened at position p, whose entry e does not match
// the hash the log stored for p (or does not encode p); rest are the
// entries that follow, as stored.
func classify(p int64, e Entry, rest []Entry, storedLeaf tlog.Hash) error {
	embedded, ok := embeddedIndex(e.Data)
	switch {
	case !ok:
		return &DamageError{Index: p, Kind: Modified, Detail: "the entry does not decode"}
	case embedded < p:
		return &DamageError{Index: p, Kind: Inserted,
			Detail: fmt.Sprintf("the entry here was appended at %d", embedded)}
	case embedded > p:
		// Every later entry shifted by the same amount: entries were
		// deleted and the rest renumbered. Otherwise, they were moved.
		if len(rest) > 0 {
			if next, ok := embeddedIndex(rest[0].Data); ok && next == embedded+1 {
				return &DamageError{Index: p, Kind: Deleted,
					Detail: fmt.Sprintf("%d entries are missing; the entry here was appended at %d", embedded-p, embedded)}
			}
		}
		return &DamageError{Index: p, Kind: Reordered,
			Detail: fmt.Sprintf("the entry here was appended at %d", embedded)}
	}
	// The entry claims position p but its content differs. If the next one
	// is the original entry of p, an entry was inserted before it.
	if len(rest) > 0 {
		if next, ok := embeddedIndex(rest[0].Data); ok && next == p && tlog.RecordHash(rest[0].Data) == storedLeaf {
			return &DamageError{Index: p, Kind: Inserted, Detail: "an entry was inserted before the original entry of this position"}
		}
	}
	return &DamageError{Index: p, Kind: Modified, Detail: "the entry's content does not match its hash in the tree"}
}

// embeddedIndex reads the index an entry's encoding was made for.
func embeddedIndex(data []byte) (int64, bool) {
	if len(data) < len(encodingMagic) || string(data[:len(encodingMagic)]) != encodingMagic {
		return 0, false
	}
	n, k := binary.Uvarint(data[len(encodingMagic):])
	if k <= 0 || n > 1<<62 {
		return 0, false
	}
	return int64(n), true
}

// storedHashes reads the stored hashes of the entries [start, start+n).
// If some have none, it returns the hashes of those before the first such
// entry, and the damage to report once those are checked.
func (v *verifier) storedHashes(start, n int64) ([]tlog.Hash, *DamageError, error) {
	hashes, err := v.store.ReadHashes(v.ctx, hashRange(start, start+n))
	if !errors.Is(err, ErrNotFound) {
		return hashes, nil, err
	}
	// Find the first entry without its hashes: one the log never appended.
	for p := start; p < start+n; p++ {
		if _, err := v.store.ReadHashes(v.ctx, hashRange(p, p+1)); errors.Is(err, ErrNotFound) {
			hashes, err := v.store.ReadHashes(v.ctx, hashRange(start, p))
			return hashes, &DamageError{Index: p, Kind: Inserted,
				Detail: "the entry has no tree hashes: the log never appended it"}, err
		} else if err != nil {
			return nil, nil, err
		}
	}
	return nil, nil, err
}

// hashRange returns the storage indexes of the hashes stored with the
// records [from, to).
func hashRange(from, to int64) []int64 {
	a, b := tlog.StoredHashIndex(0, from), tlog.StoredHashIndex(0, to)
	indexes := make([]int64, 0, b-a)
	for x := a; x < b; x++ {
		indexes = append(indexes, x)
	}
	return indexes
}

// ReadHashes serves tlog from the recomputed right edge of the tree.
func (v *verifier) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		h, ok := v.edge.get(x)
		if !ok {
			return nil, fmt.Errorf("audit: verify: hash %d is not on the tree's right edge", x)
		}
		out[i] = h
	}
	return out, nil
}

// loadCheckpoints gathers the checkpoints to check: the trusted ones and
// those in the store, signatures verified when a public key is given.
func (v *verifier) loadCheckpoints() error {
	for _, signed := range v.opts.Trusted {
		if v.opts.PublicKey == "" {
			return errors.New("audit: verify: trusted checkpoints need VerifyOptions.PublicKey")
		}
		_, size, root, err := OpenCheckpoint(signed, v.opts.PublicKey)
		if err != nil {
			return fmt.Errorf("audit: verify: trusted checkpoint: %w", err)
		}
		v.checkpoints = append(v.checkpoints, Checkpoint{Size: size, Root: root, Note: signed})
		v.trusted = max(v.trusted, size)
	}
	for minSize := int64(0); ; {
		page, err := v.store.Checkpoints(v.ctx, minSize, 1000)
		if err != nil {
			return err
		}
		for _, c := range page {
			if v.opts.PublicKey != "" {
				_, size, root, err := OpenCheckpoint(c.Note, v.opts.PublicKey)
				if err != nil || size != c.Size || root != c.Root {
					return &DamageError{Index: c.Size, Kind: BadCheckpoint,
						Detail: fmt.Sprintf("the stored checkpoint of size %d is not validly signed", c.Size)}
				}
			}
			v.checkpoints = append(v.checkpoints, c)
		}
		if len(page) < 1000 {
			break
		}
		minSize = page[len(page)-1].Size + 1
	}
	slices.SortStableFunc(v.checkpoints, func(a, b Checkpoint) int { return int(min(max(a.Size-b.Size, -1), 1)) })
	// Size 0 has no root to check.
	for len(v.checkpoints) > 0 && v.checkpoints[0].Size == 0 {
		v.checkpoints = v.checkpoints[1:]
	}
	return nil
}

// explainMissing says what happened at the position of the first entry
// whose tree hashes are missing: an entry that was deleted, moved there, or
// added without hashes. entries were read from start on.
func (v *verifier) explainMissing(missing *DamageError, entries []Entry, start int64) error {
	p := missing.Index
	i := int(p - start)
	if i >= len(entries) || entries[i].Index != p {
		return &DamageError{Index: p, Kind: Deleted, Detail: "no entry at this position"}
	}
	if embedded, ok := embeddedIndex(entries[i].Data); !ok || embedded != p {
		// The hashes stored with this row belong to the entry that was
		// appended here, which is elsewhere now (or gone).
		return classify(p, entries[i], entries[i+1:], tlog.Hash{})
	}
	return missing
}
