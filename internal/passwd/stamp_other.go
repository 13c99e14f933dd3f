//go:build !linux

package passwd

import "os"

// sysStamp is empty outside Linux (where htgate reads no inode or change time); size and
// modification time alone then decide whether a file changed.
type sysStamp struct{}

func sysStampOf(os.FileInfo) sysStamp { return sysStamp{} }
