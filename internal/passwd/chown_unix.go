//go:build unix

package passwd

import (
	"os"
	"syscall"
)

// chownLike gives f the owner and group of old when running as root (only
// root may give a file away; others keep their own ownership, as a rewrite
// by the owner would).
func chownLike(f *os.File, old os.FileInfo) error {
	st, ok := old.Sys().(*syscall.Stat_t)
	if !ok || os.Geteuid() != 0 {
		return nil
	}
	return f.Chown(int(st.Uid), int(st.Gid))
}
