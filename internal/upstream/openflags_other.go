//go:build !unix

package upstream

import "os"

// openFlags opens files for reading.
const openFlags = os.O_RDONLY
