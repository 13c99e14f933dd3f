package htaccess

// fnmatch reports whether name matches the shell pattern, as apr_fnmatch
// with APR_FNM_PATHNAME does for <Files>: "*" matches any run and "?" any
// one character except "/", "[...]" a class ("!" or "^" negates, "a-z" is
// a range) and a backslash makes the next character literal. A malformed
// pattern matches nothing.
func fnmatch(pattern, name string) bool {
	px, nx := 0, 0
	nextPx, nextNx := -1, -1
	for px < len(pattern) || nx < len(name) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				nextPx, nextNx = px, nx+1
				px++
				continue
			case '?':
				if nx < len(name) && name[nx] != '/' {
					px++
					nx++
					continue
				}
			case '[':
				if nx < len(name) && name[nx] != '/' {
					ok, width, valid := matchClass(pattern[px:], name[nx])
					if !valid {
						return false
					}
					if ok {
						px += width
						nx++
						continue
					}
				}
			case '\\':
				if px+1 < len(pattern) && nx < len(name) && name[nx] == pattern[px+1] {
					px += 2
					nx++
					continue
				}
			default:
				if nx < len(name) && name[nx] == c {
					px++
					nx++
					continue
				}
			}
		}
		// Backtrack: let the last "*" eat one more character (never a "/").
		if nextNx > 0 && nextNx <= len(name) && name[nextNx-1] != '/' {
			px, nx = nextPx, nextNx
			continue
		}
		return false
	}
	return true
}

// matchClass matches c against the class at the start of p ("[...]") and
// returns the class's width; valid is false when the class is not closed.
func matchClass(p string, c byte) (ok bool, width int, valid bool) {
	i := 1
	negate := false
	if i < len(p) && (p[i] == '!' || p[i] == '^') {
		negate = true
		i++
	}
	first := true
	for i < len(p) {
		if p[i] == ']' && !first {
			return ok != negate, i + 1, true
		}
		first = false
		lo := p[i]
		if lo == '\\' && i+1 < len(p) {
			i++
			lo = p[i]
		}
		i++
		hi := lo
		if i+1 < len(p) && p[i] == '-' && p[i+1] != ']' {
			hi = p[i+1]
			if hi == '\\' && i+2 < len(p) {
				hi = p[i+2]
				i++
			}
			i += 2
		}
		if lo <= c && c <= hi {
			ok = true
		}
	}
	return false, 0, false
}
