//go:build unix

package upstream

import (
	"os"
	"syscall"
)

// openFlags opens files without blocking on a FIFO planted in the docroot;
// O_NONBLOCK does not change reads from regular files.
const openFlags = os.O_RDONLY | syscall.O_NONBLOCK
