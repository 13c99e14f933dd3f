//go:build unix

package htaccess

import (
	"os"
	"syscall"
)

// stampOf identifies a file version by size, modification time and inode.
func stampOf(fi os.FileInfo) fileStamp {
	st := fileStamp{present: true, size: fi.Size(), mtime: fi.ModTime()}
	if s, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.ino = uint64(s.Ino)
	}
	return st
}
