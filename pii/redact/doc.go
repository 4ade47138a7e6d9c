// Package redact removes personal data and secrets from text, streams, log
// records and structs before they are stored or shared, using the
// scanner of package [detect] to find them.
//
// A [Redactor], made by [New], replaces each finding by the [Strategy] of
// its type:
//
//   - [Tag]: "[EMAIL]", "[PHONE]";
//   - [Mask]: "[EMAIL:example.com]", "**** **** **** 1111", "+** ** *** **99";
//   - [Pseudonym]: "[EMAIL:cmgqnwkmfjcg]", the same for the same address;
//   - [Remove]: nothing.
//
// [Options] choose the strategy of each type:
//
//	r, err := redact.New(&redact.Options{
//		Strategies:   map[detect.Type]redact.Strategy{detect.Email: redact.Pseudonym, detect.Card: redact.Mask},
//		PseudonymKey: key, // 32 random bytes, kept secret
//	})
//	line := r.String("refund to jane.doe@example.com")  // "refund to [EMAIL:...]"
//
// # What it redacts
//
//   - Text: [Redactor.String] and [Redactor.Bytes].
//   - Streams: [Redactor.Copy] copies a reader to a writer, and
//     [Redactor.NewWriter] returns a writer that redacts what is written
//     to it. Both count what they replaced in a [Report].
//   - Log records: [Redactor.Handler] wraps any [log/slog.Handler]. It
//     redacts messages and attribute values, hides the values of
//     attributes named like secrets ("password", "apiKey", ...), and adds
//     no allocation to a record that needs no change.
//   - Structs: [Redactor.Struct] replaces the fields marked with a `pii`
//     tag whole and scans the others.
//
// # Redacting twice changes nothing
//
// Replacements are made so that the scanner does not find them again, and
// the result of every redaction is scanned once more to make sure (a
// replacement can join the text around it into something new), so the
// output of a Redactor holds nothing its scanner finds, and redacting it
// again leaves it as it is. (A host's own detector should not match the
// tags of its type; if it does, what it keeps finding is removed.)
//
// Redaction only removes what the scanner finds. It lowers the risk of
// sharing a log; it does not make the log anonymous. A name in free text,
// for instance, is not found.
package redact
