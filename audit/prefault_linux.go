package audit

import (
	"syscall"
	"unsafe"
)

// madvPopulateWrite is MADV_POPULATE_WRITE (Linux 5.14).
const madvPopulateWrite = 23

// prefault maps in the pages of b, which is freshly allocated, in one system
// call: on a virtual machine a page fault can cost microseconds, a dozen
// times what writing the page does. The contents of b do not change. It
// is only a hint: older kernels refuse it, and the pages are then faulted
// in as they are written, as they would have been. A block of a few pages
// is left to fault in: the system call would cost about as much.
func prefault(b []byte) {
	if len(b) < 4*pageSize {
		return
	}
	// madvise takes whole pages; a partial page at either end is left to
	// fault in.
	start := (pageSize - int(uintptr(unsafe.Pointer(unsafe.SliceData(b))))%pageSize) % pageSize
	end := start + (len(b)-start)/pageSize*pageSize
	_ = syscall.Madvise(b[start:end], madvPopulateWrite)
}
