// Package htaccess reads Apache .htaccess files and merges them the way
// Apache httpd 2.4 merges per-directory configuration, so that the gateway
// can protect an Apache docroot as Apache would: Parse turns a file into a
// tree of directives (Apache's config syntax), Compile checks each
// directive against the modules and AllowOverride classes in force, and a
// Loader walks the directories of a request path, caches what it parsed
// and returns the effective configuration, which the gateway turns into a
// policy.Rule and a few non-auth decisions (redirects, error documents,
// directory indexes).
//
// A directive it does not understand, or one that is not allowed by the
// configured AllowOverride classes, makes the directory it is in unusable
// (the gateway answers 500, as Apache does); nothing is silently ignored.
//
// Package htaccess may import policy, htgate and the standard library only.
package htaccess
