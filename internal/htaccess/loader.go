package htaccess

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// FileName is the name of the per-directory configuration file, Apache's
// default AccessFileName.
const FileName = ".htaccess"

// LoaderOptions configure a Loader. The zero value is ready to use.
type LoaderOptions struct {
	// Options describe the emulated Apache.
	Options Options
	// Recheck is how long what the Loader learnt about a path (whether it
	// is a directory, its .htaccess) is trusted before it stats it again.
	// Default one second.
	Recheck time.Duration
	// MaxEntries bounds the cache of paths. Default 10000.
	MaxEntries int
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Loader walks the directories of request paths under a docroot and
// returns their effective configuration. It caches what it read: each
// path is stat'ed at most once per Recheck, and a .htaccess file is parsed
// again only when its size, modification time or inode changes. It is
// safe for concurrent use.
type Loader struct {
	root    *os.Root
	dir     string
	opts    Options
	recheck time.Duration
	max     int
	now     func() time.Time
	base    *Config

	mu      sync.Mutex
	entries map[string]*entry
}

// entry is what the Loader knows about one path below the docroot.
type entry struct {
	mu      sync.Mutex
	checked time.Time
	exists  bool
	isDir   bool
	err     error // the directory cannot be read, or its .htaccess is broken
	stamp   fileStamp
	section *Section // its .htaccess, nil if none
	parent  *Config  // the parent's merged configuration merged was built on
	merged  *Config  // this directory's merged configuration
}

// fileStamp identifies a version of a .htaccess file.
type fileStamp struct {
	present bool
	size    int64
	mtime   time.Time
	ino     uint64
}

// NewLoader returns a Loader for the docroot dir.
func NewLoader(dir string, o LoaderOptions) (*Loader, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("htaccess: docroot %s: %w", dir, err)
	}
	l := &Loader{root: root, dir: dir, opts: o.Options, recheck: o.Recheck, max: o.MaxEntries, now: o.Now,
		base: serverConfig(), entries: make(map[string]*entry)}
	if l.recheck <= 0 {
		l.recheck = time.Second
	}
	if l.max <= 0 {
		l.max = 10000
	}
	if l.now == nil {
		l.now = time.Now
	}
	return l, nil
}

// Close releases the docroot.
func (l *Loader) Close() error { return l.root.Close() }

// Options are the options of the emulated Apache.
func (l *Loader) Options() Options { return l.opts }

// Result is the outcome of a Lookup.
type Result struct {
	// Config is the effective configuration; nil when Err is set.
	Config *Config
	// Err is set when a .htaccess on the way cannot be used: a
	// *SyntaxError (Apache answers 500), or an error wrapping
	// fs.ErrPermission for an unreadable file or directory (Apache
	// answers 403).
	Err error
	// Dir is the URL-path of the deepest existing directory of the path,
	// with a trailing slash.
	Dir string
	// Name is the path's component after Dir, which <Files> blocks were
	// matched against: the file's name, or the first missing component;
	// "" when the path is a directory.
	Name string
	// IsDir and Exists say whether the path names an existing directory
	// or any existing file.
	IsDir, Exists bool
	// PathInfo is what follows Name in the path ("/x" in /a/file.html/x).
	PathInfo string
}

// Lookup walks the canonical request path (decoded, dot segments
// resolved, starting with "/") from the docroot down: every existing
// directory's .htaccess is merged in order, and the <Files> blocks in
// scope are matched against the first component that is not a directory.
func (l *Loader) Lookup(path string) Result {
	res := Result{Dir: "/"}
	cfg, err := l.dirConfig("/", l.base)
	if err != nil {
		return Result{Err: err, Dir: "/"}
	}
	if !strings.HasPrefix(path, "/") || strings.Contains(path, "//") {
		path = mergeSlashes(path)
	}
	rest := path[1:]
	res.IsDir, res.Exists = true, true
	for rest != "" {
		seg, after, more := strings.Cut(rest, "/")
		// res.Dir and child are prefixes of path: no allocation.
		start := len(path) - len(rest)
		child := path[:start+len(seg)]
		e := l.stat(child)
		if !e.isDir {
			res.Name, res.IsDir, res.Exists = seg, false, e.exists
			if more {
				res.PathInfo = "/" + after
			}
			if e.err != nil {
				return Result{Err: e.err, Dir: res.Dir, Name: seg}
			}
			break
		}
		if more {
			res.Dir = path[:start+len(seg)+1]
		} else {
			res.Dir = child + "/"
		}
		cfg, err = l.dirConfig(res.Dir, cfg)
		if err != nil {
			return Result{Err: err, Dir: res.Dir}
		}
		if !more {
			// A directory named without its trailing slash: Apache's file
			// walk matches <Files> against the directory's own name.
			res.Name = seg
		}
		rest = after
	}
	res.Config = cfg.forFile(res.Name)
	if res.IsDir {
		res.Name = ""
	}
	return res
}

// getEntry returns the cache entry of a path, creating it.
func (l *Loader) getEntry(p string) *entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.entries[p]; ok {
		return e
	}
	if len(l.entries) >= l.max {
		// Evict about a tenth, oldest checks first would need an index;
		// random eviction (map order) is good enough for a cache that
		// only saves stat calls.
		n := l.max / 10
		for k := range l.entries {
			if n <= 0 {
				break
			}
			delete(l.entries, k)
			n--
		}
	}
	e := &entry{}
	l.entries[strings.Clone(p)] = e
	return e
}

// stat returns what is known of the path p (no trailing slash), checking
// the file system at most once per Recheck.
func (l *Loader) stat(p string) *entry {
	e := l.getEntry(p)
	e.mu.Lock()
	defer e.mu.Unlock()
	now := l.now()
	if !e.checked.IsZero() && now.Sub(e.checked) < l.recheck {
		return e
	}
	e.checked = now
	e.err = nil
	fi, err := l.root.Stat(rel(p))
	switch {
	case err == nil:
		e.exists, e.isDir = true, fi.IsDir()
	case errors.Is(err, fs.ErrPermission):
		e.exists, e.isDir = true, false
		e.err = fmt.Errorf("htaccess: %s: %w", p, err)
	default:
		// Missing, not a directory on the way, a link leading out of
		// the docroot: nothing there.
		e.exists, e.isDir = false, false
	}
	return e
}

// dirConfig returns the merged configuration of the directory dir (a
// URL-path ending in "/"), given its parent's.
func (l *Loader) dirConfig(dir string, parent *Config) (*Config, error) {
	e := l.getEntry(dir)
	e.mu.Lock()
	defer e.mu.Unlock()
	now := l.now()
	if e.checked.IsZero() || now.Sub(e.checked) >= l.recheck {
		e.checked = now
		l.refresh(dir, e)
	}
	if e.err != nil {
		return nil, e.err
	}
	if e.merged == nil || e.parent != parent {
		e.parent = parent
		if e.section == nil {
			e.merged = parent
		} else {
			e.merged = merge(parent, e.section)
		}
	}
	return e.merged, nil
}

// refresh re-reads the directory's .htaccess if it changed.
func (l *Loader) refresh(dir string, e *entry) {
	name := rel(dir + FileName)
	fi, err := l.root.Stat(name)
	var st fileStamp
	switch {
	case err == nil:
		st = stampOf(fi)
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
	case errors.Is(err, fs.ErrPermission):
		e.err = fmt.Errorf("htaccess: %s: unable to check htaccess file, ensure it is readable and that %s is executable: %w", l.dir+dir+FileName, dir, err)
		e.stamp = fileStamp{}
		return
	default:
		e.err = fmt.Errorf("htaccess: %s: %w", l.dir+dir+FileName, err)
		e.stamp = fileStamp{}
		return
	}
	if st == e.stamp && e.merged != nil && e.err == nil {
		return
	}
	e.err, e.stamp, e.section, e.merged = nil, st, nil, nil
	if !st.present {
		return
	}
	if fi.IsDir() {
		e.err = &SyntaxError{File: l.dir + dir + FileName, Msg: "is a directory"}
		return
	}
	sec, err := l.read(l.dir+dir+FileName, name)
	if err != nil {
		e.err = err
		e.stamp = fileStamp{} // try again at the next check
		return
	}
	e.section = sec
}

// read parses and compiles one .htaccess file.
func (l *Loader) read(display, name string) (*Section, error) {
	f, err := l.root.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return nil, fmt.Errorf("htaccess: %s: %w", display, err)
		}
		return nil, &SyntaxError{File: display, Msg: err.Error()}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, &SyntaxError{File: display, Msg: err.Error()}
	}
	pf, err := Parse(display, data)
	if err != nil {
		return nil, err
	}
	return Compile(pf, l.opts)
}

// rel turns a URL-path into a name for os.Root.
func rel(p string) string {
	p = strings.Trim(p, "/")
	if p == "" {
		return "."
	}
	return p
}

// Open opens the file at the canonical URL-path p under the docroot, for
// error documents and index files; it cannot leave the docroot.
func (l *Loader) Open(p string) (*os.File, error) {
	return l.root.Open(rel(p))
}

// Dir is the docroot the Loader reads.
func (l *Loader) Dir() string { return l.dir }

// mergeSlashes makes p start with "/" and have no empty segments; a
// trailing slash is kept. Canonical paths need none of it.
func mergeSlashes(p string) string {
	segs := strings.FieldsFunc(p, func(r rune) bool { return r == '/' })
	out := "/" + strings.Join(segs, "/")
	if len(segs) > 0 && strings.HasSuffix(p, "/") {
		out += "/"
	}
	return out
}
