package memory

import "unsafe"

// unsafeSameData reports whether a's bytes lie inside b's.
func unsafeSameData(a, b string) bool {
	pa, pb := uintptr(unsafe.Pointer(unsafe.StringData(a))), uintptr(unsafe.Pointer(unsafe.StringData(b)))
	return pa >= pb && pa < pb+uintptr(len(b))
}
