package gateway

import "github.com/htgate/htgate/internal/passwd"

// HtpasswdSource adapts a watched htpasswd file to CredentialSource.
type HtpasswdSource struct{ File *passwd.HtpasswdFile }

// Current returns the file's snapshot and version, or the error that makes
// the file unusable now.
func (s HtpasswdSource) Current() (Credentials, uint64, error) {
	if err := s.File.Err(); err != nil {
		return nil, 0, err
	}
	return s.File.Snapshot(), s.File.Version(), nil
}

// GroupFileSource adapts a watched group file to GroupSource.
type GroupFileSource struct{ File *passwd.GroupFile }

// Current returns the file's snapshot, or the error that makes it unusable now.
func (s GroupFileSource) Current() (Groups, error) {
	if err := s.File.Err(); err != nil {
		return nil, err
	}
	return s.File.Snapshot(), nil
}
