// Package breach is the breach register: it records personal data
// breaches, suspected or confirmed, notifiable or not (GDPR Art. 33(5)),
// keeps every update as an append-only version (Art. 33(4) allows
// information in phases), and tells what is due to whom by when under
// each regime involved.
//
// # Register
//
// A [Register] over a [Store] ([MemStore] in memory, sqlstore.BreachStore
// on SQLite or PostgreSQL, or your own checked with breachtest) validates an [Incident] and keeps it: when the organisation
// became aware, when it occurred, its [Nature] (confidentiality,
// integrity, availability, and POPIA's loss, damage, destruction, unlawful
// access and unlawful processing), the fideslang data categories, the
// categories and approximate numbers of subjects and records, consequences,
// measures, what subjects can do, the unauthorised party if known, the
// contact point, the jurisdictions and the [Risk]. Invalid input returns a
// [*dataward.ValidationError] naming every bad field, never its value.
// [Register.Update] moves an incident through its [Status] workflow
// (detected, assessed, authority notified, subjects notified, closed),
// forward only, each change a new version.
//
// # Regimes
//
// Each [Regime] is data with citations: its duties, to whom, the
// [Deadline] and the moment its clock starts, thresholds and required
// content. The built-in ones are GDPR, UK GDPR, POPIA, California Civil
// Code 1798.82, HIPAA, Brazil's LGPD (3 working days, on a [Calendar] with
// configurable holidays), India's DPDP Rules, Singapore's PDPA, Kenya and
// Nigeria. [Obligations] (or [Register.Obligations]) lists an incident's
// [Obligation]s with their deadlines; [Overdue], [DueSoon] and
// [Register.Pending] drive alerts. A GDPR notice given after the 72 hours
// must carry the reasons for the delay: [Register.Update] refuses it
// without [Incident.DelayReason], and [Obligation.Missing] says so.
//
// # Notices
//
// [BuildNotice] renders the authority report or the subject notice of a
// regime from templates, as plain text (text/template) and HTML
// (html/template), in English, Portuguese or Afrikaans. It refuses to
// finalise a notice while content the regime requires is missing and
// returns an [*IncompleteError] naming each field with its provision (GDPR
// Art. 33(3)(a)-(d), POPIA s22(5), California's prescribed headings).
//
// # Delivery
//
// The host streams the affected subjects' contacts through a
// [ContactSource]; [Dedup] and the [Outbox] remove repeats. A [Notifier]
// delivers through one channel: [SMTPNotifier] (STARTTLS, authentication),
// [WebhookNotifier] (signed JSON with an idempotency key, retried with
// backoff and jitter; [WebhookVerifier] is the receiver's side) and
// [LogNotifier]. The [Outbox] enqueues each notice once per incident,
// regime, party, phase and recipient, delivers with bounded concurrency
// and a rate limit, survives crashes through leases, and keeps a [Receipt]
// of every attempt, also written to the audit log. Recipients' addresses
// are personal data: they never appear in errors, receipts or audit events.
//
// The legal content is a conservative reading, simplified where the law
// turns on facts a register cannot know; each [Duty] says how in its Note.
// It is an aid to compliance, not legal advice.
package breach
