// Package insecurekeyfile keeps a master key (KEK) for development in a
// local file, as a clear-text Tink keyset. Anyone who can read the file can
// decrypt every data key wrapped with it.
//
// Use it for development, tests and demos only. In production, the master
// key lives in a KMS and the host passes the KMS AEAD to pii.NewKeyring.
// The package name says "insecure" so that every use of it can be found,
// as with Tink's insecurecleartextkeyset.
package insecurekeyfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/tink"
)

// AEAD returns the master key kept in the file at path, creating the file
// with a new AES-256-GCM keyset if it does not exist. It is LoadOrCreate
// followed by aead.New.
func AEAD(path string) (tink.AEAD, error) {
	h, err := LoadOrCreate(path)
	if err != nil {
		return nil, err
	}
	a, err := aead.New(h)
	if err != nil {
		return nil, fmt.Errorf("insecurekeyfile: %s does not hold an AEAD keyset: %w", path, err)
	}
	return a, nil
}

// LoadOrCreate reads the keyset in the file at path, or, if there is no
// such file, creates one with a new AES-256-GCM keyset, readable by its
// owner only. Two processes that create the file at once end with the same
// keyset.
func LoadOrCreate(path string) (*keyset.Handle, error) {
	h, err := Load(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return h, err
	}
	h, err = keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		return nil, fmt.Errorf("insecurekeyfile: new keyset: %w", err)
	}
	if err := write(path, h, false); err != nil {
		if errors.Is(err, fs.ErrExist) { // another process created it first
			return Load(path)
		}
		return nil, err
	}
	return h, nil
}

// Load reads the keyset in the file at path. The error matches
// fs.ErrNotExist if there is no such file.
func Load(path string) (*keyset.Handle, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("insecurekeyfile: %w", err)
	}
	defer f.Close()
	h, err := insecurecleartextkeyset.Read(keyset.NewJSONReader(f))
	if err != nil {
		return nil, fmt.Errorf("insecurekeyfile: %s is not a clear-text Tink keyset: %w", path, err)
	}
	return h, nil
}

// Rotate adds a new AES-256-GCM key to the keyset in the file at path and
// makes it the primary: values are encrypted with it from then on, and the
// older keys stay in the keyset so that what they encrypted can still be
// decrypted. Run pii.Keyring.Rewrap afterwards to move every data key to
// the new version. Returns the new key's id.
func Rotate(path string) (uint32, error) {
	h, err := Load(path)
	if err != nil {
		return 0, err
	}
	m := keyset.NewManagerFromHandle(h)
	id, err := m.Add(aead.AES256GCMKeyTemplate())
	if err != nil {
		return 0, fmt.Errorf("insecurekeyfile: add key: %w", err)
	}
	if err := m.SetPrimary(id); err != nil {
		return 0, fmt.Errorf("insecurekeyfile: set primary: %w", err)
	}
	if h, err = m.Handle(); err != nil {
		return 0, fmt.Errorf("insecurekeyfile: %w", err)
	}
	return id, write(path, h, true)
}

// write stores h at path through a temporary file, so that a reader never
// sees a half-written keyset. Without replace it fails with fs.ErrExist if
// path exists.
func write(path string, h *keyset.Handle, replace bool) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".kek-*.tmp")
	if err != nil {
		return fmt.Errorf("insecurekeyfile: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("insecurekeyfile: %w", err)
	}
	if err := insecurecleartextkeyset.Write(h, keyset.NewJSONWriter(tmp)); err != nil {
		tmp.Close()
		return fmt.Errorf("insecurekeyfile: write keyset: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("insecurekeyfile: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("insecurekeyfile: %w", err)
	}
	if replace {
		err = os.Rename(tmp.Name(), path)
	} else {
		err = os.Link(tmp.Name(), path) // fails if path exists
	}
	if err != nil {
		return fmt.Errorf("insecurekeyfile: %w", err)
	}
	return nil
}
