//go:build linux

package passwd

import (
	"os"
	"syscall"
)

// sysStamp is the part of a file's identity that os.FileInfo hides: a file
// replaced by rename has a new inode, one rewritten in place a new ctime.
type sysStamp struct {
	dev, ino          uint64
	ctimeSec, ctimeNs int64
}

func sysStampOf(fi os.FileInfo) sysStamp {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return sysStamp{}
	}
	sec, nsec := st.Ctim.Unix()
	return sysStamp{dev: uint64(st.Dev), ino: uint64(st.Ino), ctimeSec: sec, ctimeNs: nsec}
}
