package htaccess

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// MaxCheckedFiles bounds how many .htaccess files CheckTree reads.
const MaxCheckedFiles = 10000

// CheckTree reads every .htaccess file under the docroot dir, as Compile
// would for a request, and returns every problem found: a *SyntaxError
// with file and line for a file whose directory would answer 500, and
// other errors for files or directories that cannot be read. It is what
// `htgate doctor` reports; the gateway finds the same problems lazily,
// one request at a time.
func CheckTree(dir string, opts Options) []error {
	var errs []error
	n := 0
	walkErr := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, fmt.Errorf("htaccess: %w", err))
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || d.Name() != FileName {
			return nil
		}
		if n++; n > MaxCheckedFiles {
			return fmt.Errorf("htaccess: more than %d .htaccess files under %s; stopped", MaxCheckedFiles, dir)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("htaccess: %w", err))
			return nil
		}
		f, err := Parse(path, data)
		if err == nil {
			_, err = Compile(f, opts)
		}
		if err != nil {
			errs = append(errs, err)
		}
		return nil
	})
	if walkErr != nil && !errors.Is(walkErr, fs.SkipAll) {
		errs = append(errs, walkErr)
	}
	return errs
}
