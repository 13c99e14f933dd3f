package htaccess

import (
	"regexp"
	"time"
)

// Section is what one .htaccess file, or one <Files>/<FilesMatch> block
// in it, sets, module by module as Apache keeps it before merging. Nil
// pointers are "not set here": the merge keeps the inherited value.
type Section struct {
	file string // the .htaccess path, for errors and traces

	// mod_authn_core
	authType *string // "" is AuthType None
	authName *string // the realm as clients see it (see realmOf)
	// mod_authn_file, mod_authz_groupfile
	userFile  *fileRef
	groupFile *fileRef
	// mod_auth_basic
	basic *basicConf
	// mod_auth_digest: Apache keeps no merger for it, so a section that
	// sets any of its directives (AuthName included) replaces all of them.
	digest *digestConf
	// mod_authz_core
	authz *authzConf
	// mod_access_compat: no merger either; replaced as a whole.
	access *accessConf
	// core
	errorDocs      map[int]ErrorDocument
	indexes        int8 // Options Indexes: -1 unset, 0 off, 1 on
	defaultCharset *string
	forceType      *string
	// mod_alias
	redirects   []*Redirect
	redirectAll *Redirect
	// mod_dir
	dirIndex      []string // non-nil when set; empty: DirectoryIndex disabled
	dirSlash      int8     // -1 unset
	fallback      *string  // FallbackResource; "" is disabled
	indexRedirect *int     // DirectoryIndexRedirect: 0 off, else the status
	pathInfo      int8     // AcceptPathInfo: -1 unset, 0 off/default, 1 on
	// mod_mime
	mime *mimeConf
	// <Files> and <FilesMatch> blocks of this file, in order
	files []*filesSection
}

func newSection(file string) *Section {
	return &Section{file: file, indexes: -1, dirSlash: -1, pathInfo: -1}
}

// fileRef is a credential file named by a directive.
type fileRef struct {
	path     string // absolute, unless relative
	where    string // "file:line" of the directive
	relative bool   // a relative path and no ServerRoot: unusable
}

// basicConf is mod_auth_basic's configuration.
type basicConf struct {
	providers     []string // nil: unset (the default is "file")
	authoritative int8
}

// digestConf is mod_auth_digest's configuration.
type digestConf struct {
	providers []string
	qop       []string // empty: "auth"
	lifetime  time.Duration
	algorithm string
	domain    []string
	ncCheck   bool
}

func newDigestConf() *digestConf {
	return &digestConf{lifetime: 300 * time.Second, algorithm: "MD5"}
}

// filesSection is a <Files> or <FilesMatch> block.
type filesSection struct {
	pattern string
	re      *regexp.Regexp // <FilesMatch> and <Files ~>
	glob    bool           // the pattern has wildcards
	sec     *Section
	where   string
}

// matches reports whether the block applies to a file named base, as
// Apache's file walk tests it.
func (f *filesSection) matches(base string) bool {
	switch {
	case f.re != nil:
		return f.re.MatchString(base)
	case f.glob:
		return fnmatch(f.pattern, base)
	}
	return f.pattern == base
}

// mimeConf is the part of mod_mime htgate honours: types and charsets by
// extension.
type mimeConf struct {
	types          map[string]string // extension (lower-case, no dot) -> type
	charsets       map[string]string
	removeTypes    []string
	removeCharsets []string
}

// ErrorDocumentKind says what an ErrorDocument names.
type ErrorDocumentKind uint8

// Kinds of ErrorDocument, after Apache's heuristic.
const (
	DocText    ErrorDocumentKind = iota + 1 // a message sent as the body
	DocLocal                                // a local URL-path served with the error status
	DocRemote                               // a URL the client is redirected to (302)
	DocDefault                              // "default": the server's own page
)

// ErrorDocument is one ErrorDocument directive.
type ErrorDocument struct {
	Kind  ErrorDocumentKind
	Value string // the text, path or URL
	Where string // "file:line"
}
