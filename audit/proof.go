package audit

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// Prove returns the inclusion proof of the event at index in the tree of
// checkpoint c: the hashes a third party combines with the event's
// encoding to recompute c's root hash (see [CheckInclusion]).
func (l *Logger) Prove(ctx context.Context, index int64, c Checkpoint) (tlog.RecordProof, error) {
	if index < 0 || index >= c.Size {
		return nil, fmt.Errorf("audit: prove: event %d is not in a checkpoint of size %d", index, c.Size)
	}
	p, err := tlog.ProveRecord(c.Size, index, storeReader(ctx, l.store))
	if err != nil {
		return nil, fmt.Errorf("audit: prove event %d: %w", index, err)
	}
	return p, nil
}

// ProveConsistency returns the proof that the tree of checkpoint newer
// extends the tree of checkpoint older: that the log only grew between
// them (see [CheckConsistency]).
func (l *Logger) ProveConsistency(ctx context.Context, older, newer Checkpoint) (tlog.TreeProof, error) {
	if older.Size > newer.Size {
		return nil, fmt.Errorf("audit: prove consistency: checkpoint of size %d is not older than one of size %d", older.Size, newer.Size)
	}
	p, err := tlog.ProveTree(newer.Size, older.Size, storeReader(ctx, l.store))
	if err != nil {
		return nil, fmt.Errorf("audit: prove consistency %d..%d: %w", older.Size, newer.Size, err)
	}
	return p, nil
}

// ErrProof is matched by the errors of CheckInclusion and CheckConsistency
// when a proof does not hold.
var ErrProof = errors.New("audit: proof does not verify")

// CheckInclusion checks, with nothing but the log's public key, that data
// (an event's canonical encoding, [StoredEvent.Data]) is the event at index
// of the log whose signed checkpoint is given, using the proof from
// [Logger.Prove]. It also checks that data encodes that index. To check
// many events against one checkpoint, open it once with [OpenCheckpoint]
// and use [CheckInclusionIn].
func CheckInclusion(publicKey string, signedCheckpoint []byte, index int64, data []byte, proof tlog.RecordProof) error {
	_, size, root, err := OpenCheckpoint(signedCheckpoint, publicKey)
	if err != nil {
		return err
	}
	return CheckInclusionIn(size, root, index, data, proof)
}

// CheckInclusionIn is [CheckInclusion] against the size and root hash of a
// checkpoint already opened, and so verified, with [OpenCheckpoint].
func CheckInclusionIn(size int64, root tlog.Hash, index int64, data []byte, proof tlog.RecordProof) error {
	encoded, ok := embeddedIndex(data)
	if !ok {
		return fmt.Errorf("%w: the data is not an encoded event", ErrProof)
	}
	if encoded != index {
		return fmt.Errorf("%w: the data is the event at %d, not %d", ErrProof, encoded, index)
	}
	if err := tlog.CheckRecord(proof, size, root, index, tlog.RecordHash(data)); err != nil {
		return fmt.Errorf("%w: event %d in the tree of size %d: %v", ErrProof, index, size, err)
	}
	return nil
}

// CheckConsistency checks, with nothing but the log's public key, that the
// log of the newer signed checkpoint extends that of the older one, using
// the proof from [Logger.ProveConsistency].
func CheckConsistency(publicKey string, older, newer []byte, proof tlog.TreeProof) error {
	o1, n1, h1, err := OpenCheckpoint(older, publicKey)
	if err != nil {
		return err
	}
	o2, n2, h2, err := OpenCheckpoint(newer, publicKey)
	if err != nil {
		return err
	}
	if o1 != o2 {
		return fmt.Errorf("%w: checkpoints of two logs (%q, %q)", ErrProof, o1, o2)
	}
	if err := tlog.CheckTree(proof, n2, h2, n1, h1); err != nil {
		return fmt.Errorf("%w: size %d to %d: %v", ErrProof, n1, n2, err)
	}
	return nil
}
