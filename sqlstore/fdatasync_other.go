//go:build !linux

package sqlstore

import "os"

// fdatasync syncs f where there is no fdatasync: File.Sync (F_FULLFSYNC on
// macOS).
func fdatasync(f *os.File) error { return f.Sync() }
