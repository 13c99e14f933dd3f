//go:build !unix

package htaccess

import "os"

// stampOf identifies a file version by size and modification time.
func stampOf(fi os.FileInfo) fileStamp {
	return fileStamp{present: true, size: fi.Size(), mtime: fi.ModTime()}
}
