// Package consent keeps people's choices about what is done with their
// personal data, proves them, and answers in nanoseconds whether their data
// may be used for a purpose now (GDPR Art. 6, 7 and 21, Recital 32; POPIA
// s11 and s69).
//
// A host registers its purposes ([Purpose]): a fideslang data use key, the
// lawful basis, the mechanism (opt-in, opt-out, notice only), channels, an
// optional validity, and every version of the notice shown, with the hash
// of its text. A [Ledger] records choices as an append-only history per
// subject and purpose ([Record]: given, refused, withdrawn, objected,
// expired, renewed, plus pending double opt-ins and unapplied signals),
// each with the notice shown, the method, who recorded it, protected
// evidence and the jurisdiction. Nothing is updated in place; the state of
// a purpose is derived from its history.
//
// [Ledger.Allowed] answers from an in-process cache: a change made through
// the Ledger is visible at once, and, while [Ledger.Run] follows the Store,
// one made by another process within a second (PostgreSQL LISTEN/NOTIFY
// through package sqlstore).
//
// Withdrawal is as easy as giving: [Ledger.Withdraw], [Ledger.WithdrawAll]
// ("unsubscribe from everything") and [Ledger.Object]. Double opt-in
// ([Ledger.RequestConfirmation], [Ledger.Confirm]) and one-click unsubscribe
// ([Ledger.UnsubscribeHeaders], [Ledger.UnsubscribeHandler], RFC 8058) use
// HMAC-signed, expiring tokens; [GPC] honours the Global Privacy Control
// signal without overriding a later explicit choice.
//
// [Ledger.Proof] exports a subject's history as JSON, as ISO/IEC TS 27560
// records (after the W3C DPV guide) and as Kantara Consent Receipts v1.1.
// With an audit log (Options.Audit), every record has an audit event with
// the same ID carrying the record's digest, so that the tamper-evident log
// vouches for the ledger, with inclusion proofs a third party can check.
//
// The ledger is kept in a [Store]: [NewMemStore] in memory, the SQL store of
// package sqlstore (SQLite or PostgreSQL), or the host's own, checked with
// package consenttest.
package consent
