package passwd

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

// Seeds come from the test tables here and from testdata/fuzz/FuzzX/.

func FuzzParseHtpasswd(f *testing.F) {
	for _, tt := range htpasswdTests {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		h, errs, err := ParseHtpasswd(strings.NewReader(in), "f")
		if err != nil {
			t.Fatalf("ParseHtpasswd error on %d bytes: %v", len(in), err)
		}
		physical := strings.Count(in, "\n") + 1
		for _, e := range errs {
			if e.Line < 1 || e.Line > physical || e.File != "f" {
				t.Errorf("LineError %v out of range (%d lines)", e, physical)
			}
		}
		users := h.Users()
		seen := make(map[string]bool)
		for _, u := range users {
			if seen[u] {
				t.Errorf("Users() repeats %q", u)
			}
			seen[u] = true
			hash, ok := h.Lookup(u)
			if !ok || h.Problem(u) != nil {
				t.Errorf("user %q listed but Lookup = %v, Problem = %v", u, ok, h.Problem(u))
			}
			if err := Check(hash); err != nil {
				t.Errorf("user %q: usable entry fails Check: %v", u, err)
			}
			if u == "" || strings.ContainsAny(u, ":\n\x00") || strings.HasPrefix(u, "#") {
				t.Errorf("impossible user name %q", u)
			}
		}
		// Deterministic.
		h2, errs2, _ := ParseHtpasswd(strings.NewReader(in), "f")
		if !slices.Equal(h2.Users(), users) || len(errs2) != len(errs) {
			t.Errorf("second parse differs")
		}
	})
}

func FuzzParseGroups(f *testing.F) {
	for _, tt := range groupTests {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		g, errs, err := ParseGroups(strings.NewReader(in), "g")
		if err != nil {
			t.Fatalf("ParseGroups error on %d bytes: %v", len(in), err)
		}
		physical := strings.Count(in, "\n") + 1
		for _, e := range errs {
			if e.Line < 1 || e.Line > physical {
				t.Errorf("LineError %v out of range (%d lines)", e, physical)
			}
		}
		for _, name := range g.Names() {
			if name == "" || strings.ContainsFunc(name, func(r rune) bool { return isSpace(r) || r == ':' || r == 0 }) {
				t.Errorf("impossible group name %q", name)
			}
			for _, m := range g.Members(name) {
				if m == "" {
					t.Errorf("group %q has an empty member", name)
				}
				if !g.Has(m, name) || !slices.Contains(g.Of(m), name) {
					t.Errorf("%q in Members(%q) but not Has/Of", m, name)
				}
			}
		}
	})
}

func FuzzVerify(f *testing.F) {
	for _, tt := range badHashes {
		f.Add(tt.in, "pw")
	}
	for _, h := range []string{
		"$2y$05$ln40JhcDelfI6TLQtXyA9uWWp7JM/E7Txhl4iHtrjzaKgKI42l4a.",
		"$apr1$n2ViD0NI$jdrAAIkwNlBpQ.YMgUF7d1",
		"{SHA}GpHWL3ymc5liWkNopqtdSjuqYHM=",
		"Lym0Wie/f/wTc",
		"$5$rounds=6000$ab$fdF9O14mkOVQLhT55gqu2VeB4/z6IbywkxHWmrF.CaA",
		"$6$c.JRkLeBIR.rJnEe$OCNoHFLtLN199M/1NACebknTQXRA3qGIQS7awVRb0mybl06NQ.fYFmXDQUHeZJVnpnKppMFwi7UA.oZaFnkXG1",
		"$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$ux9SHpDuHXx25S/9yCGkzv6HbmhmOCNGmO56rRdSTW8",
	} {
		f.Add(h, "pw")
	}
	f.Fuzz(func(t *testing.T, hash, password string) {
		id := Identify(hash)
		if Identify(hash) != id {
			t.Fatalf("Identify(%q) unstable", hash)
		}
		checkErr := Check(hash)
		fc, cost := Cost(hash)
		if fc != id {
			t.Errorf("Cost(%q) format %q, Identify %q", hash, fc, id)
		}
		if checkErr == nil && (id == FormatUnknown || cost <= 0) {
			t.Errorf("Check(%q) = nil but format %q, cost %d", hash, id, cost)
		}
		if checkErr != nil && !errors.Is(checkErr, ErrUnknownFormat) && !errors.Is(checkErr, ErrMalformedHash) && !errors.Is(checkErr, ErrCostLimit) {
			t.Errorf("Check(%q) = %v, not a documented sentinel", hash, checkErr)
		}
		if expensive(id, cost) {
			return // verifying would only test patience
		}
		ok, err := Verify(hash, []byte(password))
		if (err == nil) != (checkErr == nil) {
			t.Errorf("Verify(%q) error %v but Check %v", hash, err, checkErr)
		}
		if ok && err != nil {
			t.Errorf("Verify(%q) = true with error %v", hash, err)
		}
	})
}

// expensive reports whether verifying a hash of this cost is too slow for a
// fuzz iteration.
func expensive(f Format, cost int) bool {
	switch f {
	case FormatBcrypt:
		return cost > 5
	case FormatSHA256Crypt, FormatSHA512Crypt:
		return cost > 10000
	case FormatArgon2id:
		return cost > 4096
	}
	return false
}

func FuzzEditHtpasswd(f *testing.F) {
	for _, tt := range editTests {
		f.Add(tt.in, tt.user)
	}
	f.Fuzz(func(t *testing.T, in, user string) {
		data := []byte(in)
		up, foundUp, errUp := UpdateHtpasswd(data, user, shaPW)
		del, foundDel, errDel := DeleteHtpasswdUser(data, user)
		if errUp != nil {
			if checkEntry(user, shaPW) == nil && !errors.Is(errDel, ErrNotHtpasswd) {
				t.Fatalf("UpdateHtpasswd error %v but DeleteHtpasswdUser error %v", errUp, errDel)
			}
			return
		}
		if errDel != nil || foundUp != foundDel {
			t.Fatalf("UpdateHtpasswd found %v, DeleteHtpasswdUser found %v, error %v", foundUp, foundDel, errDel)
		}
		// Removing the user from the updated file gives what removing it
		// from the original gives: every other line is untouched.
		del2, found2, err := DeleteHtpasswdUser(up, user)
		if err != nil || !found2 {
			t.Fatalf("DeleteHtpasswdUser(UpdateHtpasswd()) = %v, %v", found2, err)
		}
		if !bytes.Equal(del2, del) {
			// Appending may have added a final line feed and a blank line.
			extra, ok := bytes.CutPrefix(del2, del)
			if foundUp || !ok || len(extra) > 2 || strings.Trim(string(extra), "\n") != "" {
				t.Errorf("other lines changed:\n in   %q\n up   %q\n del  %q\n del2 %q", in, up, del, del2)
			}
		}
		// Apache's reading of the result finds the new entry, when the
		// input holds none of the oddities the two readers see differently.
		if clean(in) && user != "" && strings.TrimFunc(user, isSpace) == user && user[0] != '#' && !strings.HasSuffix(user, "\\") {
			h, _, _ := ParseHtpasswd(bytes.NewReader(up), "f")
			if got, ok := h.Lookup(user); !ok || got != shaPW {
				t.Errorf("after UpdateHtpasswd(%q, %q): Lookup = %q, %v; problem %v", in, user, got, ok, h.Problem(user))
			}
		}
	})
}

// clean reports whether every line of s reads the same to Apache's htpasswd
// tool and to mod_authn_file: no continuation, no NUL, no long line.
func clean(s string) bool {
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.HasSuffix(line, "\\") || strings.ContainsRune(line, 0) || len(line) > 1000 {
			return false
		}
	}
	return true
}
