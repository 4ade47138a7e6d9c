// Package retention keeps personal data no longer than its published
// retention period, then deletes, anonymises or crypto-shreds it (GDPR
// Art. 5(1)(e); POPIA s14: delete or de-identify as soon as the period
// ends, so that the data cannot be reconstructed).
//
// # Policies
//
// A [Schedule] holds one [Policy] per data set: its data category (a
// fideslang key), a [Period] in calendar units ("2 months" from 31
// December ends at the end of February), what starts the period (since
// creation, last activity, an [Event] the host records such as
// "unsubscribe", or a fixed date), the [Action] when it ends ([Delete],
// [Anonymise] with a [FieldRule] per field, [Shred] through a [Shredder]
// such as a pii.Keyring) and the legal reason. Schedules are code, or
// YAML or JSON loaded with [ParseYAML], [ParseJSON] or [LoadFile]; every
// problem is reported at once with its place.
//
// # Targets and sweeps
//
// A [Target] is one data set: it lists the records whose period may have
// ended and disposes of a batch. [MemTarget] keeps records in memory;
// package sqlstore has a target for a SQL table, configured by table and
// column names; [DirTarget] holds files by modification time.
//
// A [Sweeper] enforces a schedule. [Sweeper.Sweep] disposes, batch by
// batch, of every record whose period has ended and that no [Hold] covers;
// [Sweeper.Run] sweeps on an interval with jitter. Batches are small so
// that locks are held briefly; Options cap the records per sweep and their
// rate. A lease per data set in the [Store] makes one sweeper at a time
// sweep it; a crashed sweeper's lease expires and is taken over. A cursor
// per data set makes a sweep resumable after a crash, a cap or a
// cancellation, and targets make disposal idempotent, so that nothing is
// disposed of twice.
//
// [Sweeper.Plan] is a dry run: exactly what a sweep at the same instant
// would dispose of, per policy, with the held records it would skip and
// why the others go.
//
// # Legal holds
//
// [Sweeper.PlaceHold] holds a subject, a record or a whole category, with
// a reason and an optional end; a held record is never disposed of.
// Shredding a subject makes all of its sealed data unreadable, wherever
// it is kept, so a [Shred] policy shreds no subject while a hold covers
// any of its records, in any data set of the schedule: the subject's
// records due under that policy are reported held by that hold.
//
// # Receipts and metrics
//
// Each disposed batch writes a receipt to the audit log (Options.Audit):
// action [ReceiptAction], the policy, the action, the count, the record
// IDs as keyed hashes ([PseudonymousID]) and the time; never the disposed
// content. Options.OnBatch observes counts and durations.
package retention
