package passwd

import (
	"fmt"
	"strings"
	"testing"
)

// benchHashes returns one hash per format, at the costs htpasswd writes by
// default (bcrypt also at htgate's default 10).
func benchHashes() []struct{ name, hash string } {
	return []struct{ name, hash string }{
		{"bcrypt5", "$2y$05$ln40JhcDelfI6TLQtXyA9uWWp7JM/E7Txhl4iHtrjzaKgKI42l4a."},
		{"bcrypt10", mustHash(FormatBcrypt, HashOptions{BcryptCost: 10})},
		{"apr1", "$apr1$n2ViD0NI$jdrAAIkwNlBpQ.YMgUF7d1"},
		{"md5crypt", "$1$ab$b2XAKzcGJvTR.javvk3280"},
		{"sha1", "{SHA}GpHWL3ymc5liWkNopqtdSjuqYHM="},
		{"sha256crypt", "$5$szG4Sg0dVmhGdrRG$EBDbJXo8U2kJvSDcWw0K6mcjYIqCxAEOFgAgzyxatmB"},
		{"sha512crypt", "$6$c.JRkLeBIR.rJnEe$OCNoHFLtLN199M/1NACebknTQXRA3qGIQS7awVRb0mybl06NQ.fYFmXDQUHeZJVnpnKppMFwi7UA.oZaFnkXG1"},
		{"des", "Lym0Wie/f/wTc"},
		{"argon2id", mustHash(FormatArgon2id, HashOptions{})},
	}
}

func mustHash(f Format, opts HashOptions) string {
	h, err := Hash(f, []byte("pw"), opts)
	if err != nil {
		panic(err)
	}
	return h
}

func BenchmarkVerify(b *testing.B) {
	for _, h := range benchHashes() {
		b.Run(h.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if ok, err := Verify(h.hash, []byte("pw")); !ok || err != nil {
					b.Fatalf("Verify(%q) = %v, %v", h.hash, ok, err)
				}
			}
		})
	}
}

func BenchmarkLookup(b *testing.B) {
	var sb strings.Builder
	for i := range 10000 {
		fmt.Fprintf(&sb, "user%d:$apr1$n2ViD0NI$jdrAAIkwNlBpQ.YMgUF7d1\n", i)
	}
	h, _, err := ParseHtpasswd(strings.NewReader(sb.String()), "bench")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := h.Lookup("user5000"); !ok {
			b.Fatal("user5000 not found")
		}
	}
}
