// Package pii encrypts personal data field by field, with a data key per
// data subject, so that erasing a person is as simple as destroying one key.
//
// # Keys
//
// A [Keyring] holds a master key (the KEK), which is any Tink AEAD: a local
// keyset file during development (package insecurekeyfile), or a KMS key
// that the host builds with one of Tink's KMS integrations. Each data
// subject gets a data key (DEK) on first use; the DEK is wrapped by the KEK,
// bound to the subject, and kept in a [KeyStore]. Unwrapped DEKs are cached
// in memory for a bounded time.
//
// # Sealing
//
// [Keyring.Seal] encrypts a value for a subject and a field context (the
// record type and field, such as "customer.email"), binding the ciphertext
// to both: a sealed value copied to another subject or field fails to open.
// [Keyring.SealFields] and [Keyring.OpenFields] do the same for the struct
// fields marked with a `pii` tag.
//
// # Erasure
//
// [Keyring.Shred] destroys a subject's data key. Every copy of that
// subject's sealed data, in any table, file or back-up, becomes
// unrecoverable, and opening it returns [ErrShredded].
package pii
