package htgate

// Principal is an authenticated identity.
type Principal struct {
	// Name is the user name as the credential source knows it.
	Name string
	// Groups lists the groups the user belongs to, if the rule has a group source.
	Groups []string
	// Scheme is the authentication scheme that proved the identity ("basic", "digest", ...).
	Scheme string
}
