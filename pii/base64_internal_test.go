package pii

import (
	"bytes"
	"testing"
)

func FuzzEncodeBase64(f *testing.F) {
	for n := range 40 {
		f.Add(bytes.Repeat([]byte{0xA5, 0x3C, 0xFF, 0x00, 0x81}, 8)[:n])
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		want := b64.EncodeToString(src)
		got := make([]byte, b64.EncodedLen(len(src)))
		encodeBase64(got, src)
		if string(got) != want {
			t.Fatalf("encodeBase64(%x) = %q, want %q", src, got, want)
		}
	})
}

func BenchmarkEncodeBase64(b *testing.B) {
	src := bytes.Repeat([]byte{0xA5}, 64+Overhead)
	dst := make([]byte, b64.EncodedLen(len(src)))
	b.Run("stdlib", func(b *testing.B) {
		for b.Loop() {
			b64.Encode(dst, src)
		}
	})
	b.Run("dataward", func(b *testing.B) {
		for b.Loop() {
			encodeBase64(dst, src)
		}
	})
}
