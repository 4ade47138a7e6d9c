package audit

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// treeState is what the Logger knows of the tree between appends. Only the
// caller holding the flushing role touches it.
type treeState struct {
	size int64 // entries in the log; -1 when it must be read from the store
	// edge holds, per level, the last hash stored at that level: exactly
	// the hashes that appending the next records needs, so that appends
	// read nothing from the store while this Logger is the only appender.
	edge treeEdge
	// unsure is the last batch whose append failed: it may have been
	// stored all the same (a commit whose reply was lost), and is checked
	// for before being appended again, so that it is never stored twice.
	unsure *unsureAppend

	lastCheckpoint     int64
	lastCheckpointTime time.Time

	// Reused by makeBatch: the store copies what it keeps.
	scratch []byte
	batch   Batch
}

// treeEdge holds, per level, the last hash stored at that level: the right
// edge of the tree, which is all that hashing the next record, or the root
// of the tree so far, needs.
type treeEdge [64]struct {
	StoredHash
	ok bool
}

// add records h as the latest hash of its level.
func (e *treeEdge) add(h StoredHash) {
	level, _ := tlog.SplitStoredHashIndex(h.Index)
	e[level].StoredHash, e[level].ok = h, true
}

// addBatch records the hashes stored with the records from n on, in
// storage order: each record's leaf hash, then one hash per subtree that
// the record completes. It is add without working out each hash's level.
func (e *treeEdge) addBatch(n int64, hashes []StoredHash) {
	for len(hashes) > 0 {
		levels := min(bits.TrailingZeros64(uint64(n+1))+1, len(hashes))
		for level, h := range hashes[:levels] {
			e[level].StoredHash, e[level].ok = h, true
		}
		hashes = hashes[levels:]
		n++
	}
}

// get returns the hash at storage index x if it is on the edge.
func (e *treeEdge) get(x int64) (tlog.Hash, bool) {
	level, _ := tlog.SplitStoredHashIndex(x)
	if h := e[level]; h.ok && h.Index == x {
		return h.Hash, true
	}
	return tlog.Hash{}, false
}

type unsureAppend struct {
	start int64
	ids   []string
}

// storeReader reads stored hashes from the store.
func storeReader(ctx context.Context, s Store) tlog.HashReader {
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		return s.ReadHashes(ctx, indexes)
	})
}

// append stores batch at the end of the log: entries, their tree hashes,
// and a checkpoint when one is due.
func (l *Logger) append(ctx context.Context, batch []*pending) error {
	t := &l.tree
	for conflicts := 0; ; conflicts++ {
		if t.size < 0 {
			size, err := l.store.Size(ctx)
			if err != nil {
				return err
			}
			t.size = size
			t.edge = treeEdge{}
			if t.lastCheckpoint == 0 {
				if c, err := l.store.LatestCheckpoint(ctx); err == nil {
					t.lastCheckpoint, t.lastCheckpointTime = c.Size, c.Time
				}
			}
		}
		if done, err := l.alreadyStored(ctx, batch); err != nil || done {
			return err
		}
		b, err := l.makeBatch(ctx, t.size, batch)
		if err != nil {
			return err
		}
		if l.syncer != nil {
			err = l.syncer.AppendUnsynced(ctx, b) // made durable by syncLoop
		} else {
			err = l.store.Append(ctx, b)
		}
		if errors.Is(err, ErrConflict) && conflicts < 1000 {
			t.size = -1 // another process appended: start again from its tree
			continue
		}
		if err != nil {
			t.size = -1
			ids := make([]string, len(batch))
			for i, p := range batch {
				ids[i] = p.eventID() // a copy: kept past p's reuse
			}
			t.unsure = &unsureAppend{start: b.Entries[0].Index, ids: ids}
			return err
		}
		t.edge.addBatch(t.size, b.Hashes)
		t.size += int64(len(batch))
		return l.maybeCheckpoint(ctx, batch)
	}
}

// alreadyStored reports whether the batch whose append last failed was in
// fact stored.
func (l *Logger) alreadyStored(ctx context.Context, batch []*pending) (bool, error) {
	u := l.tree.unsure
	if u == nil {
		return false, nil
	}
	l.tree.unsure = nil
	if l.tree.size < u.start+int64(len(u.ids)) || len(batch) == 0 || len(batch) > len(u.ids) {
		return false, nil
	}
	// The batch retried is the failed one without its FailClosed and
	// Buffered events, whose callers were told of the failure (see
	// store1): if that one was stored all the same, so is this one.
	j := 0
	for _, id := range u.ids {
		if j < len(batch) && batch[j].eventID() == id {
			j++
		}
	}
	if j != len(batch) {
		return false, nil
	}
	entries, err := l.store.ReadEntries(ctx, u.start, len(u.ids))
	if err != nil {
		l.tree.unsure = u
		return false, err
	}
	for i, e := range entries {
		_, ev, err := decode(e.Data)
		if err != nil || ev.ID != u.ids[i] {
			return false, nil
		}
	}
	return len(entries) == len(u.ids), nil
}

// makeBatch encodes batch for positions size, size+1, ... and computes the
// tree hashes to store with it.
func (l *Logger) makeBatch(ctx context.Context, size int64, batch []*pending) (Batch, error) {
	// The store copies what it keeps, so the batch's memory is reused from
	// one append to the next.
	t := &l.tree
	b := &t.batch
	b.Entries = slices.Grow(b.Entries[:0], len(batch))[:len(batch)]
	b.Hashes = b.Hashes[:0]
	b.FromData = true // the entries' columns are taken from what is encoded
	t.scratch = t.scratch[:0]
	base := tlog.StoredHashIndex(0, size)
	for i, p := range batch {
		n := size + int64(i)
		// The record follows the RFC 6962 leaf prefix, a zero byte, so
		// that its leaf hash is one call.
		t.scratch = append(t.scratch, 0)
		start := len(t.scratch)
		var id []byte
		if p.genID {
			id = p.id[:]
		}
		t.scratch = encodeRecord(t.scratch, n, &p.event, id)
		data := t.scratch[start:len(t.scratch):len(t.scratch)]
		if !l.appendHashes(b, n, sha256.Sum256(t.scratch[start-1:]), base) {
			// A left sibling is neither in this batch nor on the cached
			// edge (the first append, or after another appender): let
			// tlog read it from the store.
			hashes, err := tlog.StoredHashes(n, data, l.batchReader(ctx, b, base))
			if err != nil {
				return Batch{}, fmt.Errorf("audit: hash record %d: %w", n, err)
			}
			first := tlog.StoredHashIndex(0, n)
			for j, h := range hashes {
				b.Hashes = append(b.Hashes, StoredHash{Index: first + int64(j), Hash: h})
			}
		}
		e := &p.event
		b.Entries[i] = Entry{
			Index: n, Data: data, Time: e.Time, Action: e.Action, Class: e.Class,
			ActorID: e.Actor.ID, Subject: string(e.Subject),
			ResourceType: e.Resource.Type, ResourceID: e.Resource.ID, Outcome: e.Outcome,
		}
	}
	return *b, nil
}

// maybeCheckpoint signs a checkpoint if one is due, once batch is stored.
func (l *Logger) maybeCheckpoint(ctx context.Context, batch []*pending) error {
	t := &l.tree
	if l.opts.Signer == nil || t.size <= t.lastCheckpoint {
		return nil
	}
	// The latest clock reading that Record took for an event of the
	// batch, microseconds old, spares reading the clock again.
	var now time.Time
	for _, p := range batch {
		if p.now.After(now) {
			now = p.now
		}
	}
	if now.IsZero() {
		now = l.opts.Clock.Now()
	}
	if t.size-t.lastCheckpoint < l.opts.CheckpointEvery && now.Sub(t.lastCheckpointTime) < l.opts.CheckpointInterval {
		return nil
	}
	c, err := l.syncedCheckpointAt(ctx, t.size)
	if err != nil {
		// The events are stored; a missed checkpoint is made next time.
		if l.opts.OnError != nil {
			l.opts.OnError(err)
		}
		return nil
	}
	t.lastCheckpoint, t.lastCheckpointTime = c.Size, c.Time
	return nil
}

var errEmptyLog = errors.New("audit: the log is empty")

// Checkpoint signs and records a checkpoint of the log as it is now, and
// returns it. It needs Options.Signer. Publish checkpoints outside the
// database (a file, a transparency service, an e-mail to the DPO): a
// checkpoint held elsewhere is what lets [Verify] catch a log truncated or
// rewritten by someone who controls the database.
func (l *Logger) Checkpoint(ctx context.Context) (Checkpoint, error) {
	if l.opts.Signer == nil {
		return Checkpoint{}, errors.New("audit: Checkpoint: the Logger has no Options.Signer")
	}
	size, err := l.store.Size(ctx)
	if err != nil {
		return Checkpoint{}, err
	}
	if size == 0 {
		return Checkpoint{}, errEmptyLog
	}
	return l.syncedCheckpointAt(ctx, size)
}

// syncedCheckpointAt is checkpointAt once the entries it covers are
// durable: with a SyncStore, entries may be stored (and counted by Size)
// before a Sync covers them, and a checkpoint signed over entries that a
// crash then loses would make the log that survives look truncated.
func (l *Logger) syncedCheckpointAt(ctx context.Context, size int64) (Checkpoint, error) {
	if l.syncer != nil {
		if err := l.syncer.Sync(ctx); err != nil {
			return Checkpoint{}, fmt.Errorf("audit: checkpoint: make the log durable: %w", err)
		}
	}
	return l.checkpointAt(ctx, size)
}

func (l *Logger) checkpointAt(ctx context.Context, size int64) (Checkpoint, error) {
	root, err := tlog.TreeHash(size, storeReader(ctx, l.store))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit: checkpoint: %w", err)
	}
	text := FormatCheckpoint(l.opts.Origin, size, root)
	signed, err := note.Sign(&note.Note{Text: text}, l.opts.Signer)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("audit: sign checkpoint: %w", err)
	}
	c := Checkpoint{Size: size, Root: root, Time: l.opts.Clock.Now().UTC().Truncate(time.Microsecond), Note: signed}
	if err := l.store.AddCheckpoint(ctx, c); err != nil {
		return Checkpoint{}, fmt.Errorf("audit: record checkpoint: %w", err)
	}
	return c, nil
}

// FormatCheckpoint returns the body of a checkpoint in the C2SP checkpoint
// format (https://c2sp.org/tlog-checkpoint): the origin, the tree size in
// decimal and the root hash in base64, each on its own line.
func FormatCheckpoint(origin string, size int64, root tlog.Hash) string {
	return origin + "\n" + strconv.FormatInt(size, 10) + "\n" + base64.StdEncoding.EncodeToString(root[:]) + "\n"
}

// OpenCheckpoint verifies the signature of a signed checkpoint with the
// log's public key (a note verifier key, as note.GenerateKey returns) and
// returns its origin, size and root hash. A third party needs nothing
// else.
func OpenCheckpoint(signed []byte, publicKey string) (origin string, size int64, root tlog.Hash, err error) {
	v, err := note.NewVerifier(publicKey)
	if err != nil {
		return "", 0, tlog.Hash{}, fmt.Errorf("audit: bad public key: %w", err)
	}
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		return "", 0, tlog.Hash{}, fmt.Errorf("audit: checkpoint signature: %w", err)
	}
	lines := strings.SplitAfter(n.Text, "\n")
	if len(lines) < 3 {
		return "", 0, tlog.Hash{}, errors.New("audit: malformed checkpoint")
	}
	origin = strings.TrimSuffix(lines[0], "\n")
	size, err = strconv.ParseInt(strings.TrimSuffix(lines[1], "\n"), 10, 64)
	if err != nil || size < 0 {
		return "", 0, tlog.Hash{}, errors.New("audit: malformed checkpoint size")
	}
	h, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(lines[2], "\n"))
	if err != nil || len(h) != len(root) {
		return "", 0, tlog.Hash{}, errors.New("audit: malformed checkpoint root hash")
	}
	copy(root[:], h)
	return origin, size, root, nil
}

// appendHashes appends to b.Hashes the hashes to store with record n, as
// tlog.StoredHashes computes them: leaf, the record's leaf hash (as
// tlog.RecordHash computes it), then the hash of each subtree that the
// record completes. It takes the left siblings from the hashes of b, which
// start at storage index base, or from the cached right edge of the tree,
// and reports false, leaving b as it was, if a sibling is in neither. This
// is the common path of an append, and allocates nothing.
func (l *Logger) appendHashes(b *Batch, n int64, leaf tlog.Hash, base int64) bool {
	m := bits.TrailingZeros64(uint64(n + 1)) // subtrees that record n completes
	first := tlog.StoredHashIndex(0, n)
	had := len(b.Hashes)
	h := leaf
	b.Hashes = append(b.Hashes, StoredHash{Index: first, Hash: h})
	for i := range m {
		// The siblings are stored before record n's hashes, so the
		// hashes appended here never stand in for one.
		sibling, ok := l.known(b, base, tlog.StoredHashIndex(i, n>>uint(i)-1))
		if !ok {
			b.Hashes = b.Hashes[:had]
			return false
		}
		h = tlog.NodeHash(sibling, h)
		b.Hashes = append(b.Hashes, StoredHash{Index: first + int64(i) + 1, Hash: h})
	}
	return true
}

// known returns the hash at storage index x if this Logger knows it without
// asking the store: in the batch b being made, whose hashes start at
// storage index base, or on the cached edge of the tree.
func (l *Logger) known(b *Batch, base, x int64) (tlog.Hash, bool) {
	if x >= base && x-base < int64(len(b.Hashes)) {
		return b.Hashes[x-base].Hash, true
	}
	return l.tree.edge.get(x)
}

// batchReader reads the hashes that hashing a record of b needs: those the
// Logger knows, and the rest from the store.
func (l *Logger) batchReader(ctx context.Context, b *Batch, base int64) tlog.HashReader {
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		var missing []int64
		var at []int // positions in out of the missing hashes
		for i, x := range indexes {
			if h, ok := l.known(b, base, x); ok {
				out[i] = h
			} else {
				missing = append(missing, x)
				at = append(at, i)
			}
		}
		if len(missing) == 0 {
			return out, nil
		}
		got, err := l.store.ReadHashes(ctx, missing)
		if err != nil {
			return nil, err
		}
		if len(got) != len(missing) {
			return nil, fmt.Errorf("audit: store returned %d hashes for %d indexes", len(got), len(missing))
		}
		for j, i := range at {
			out[i] = got[j]
		}
		return out, nil
	})
}
