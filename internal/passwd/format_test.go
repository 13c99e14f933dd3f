package passwd

import (
	"bufio"
	"crypto/des"
	"encoding/binary"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

// vector is one known answer from testdata/vectors.txt.
type vector struct {
	format   Format
	password string
	hash     string
	source   string
	line     int
}

func loadVectors(t testing.TB) []vector {
	t.Helper()
	f, err := os.Open("testdata/vectors.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var vs []vector
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "\t")
		if len(fields) != 4 {
			t.Fatalf("vectors.txt:%d: %d fields, want 4", n, len(fields))
		}
		pw, err := strconv.Unquote(fields[1])
		if err != nil {
			t.Fatalf("vectors.txt:%d: password: %v", n, err)
		}
		vs = append(vs, vector{Format(fields[0]), pw, fields[2], fields[3], n})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(vs) < 100 {
		t.Fatalf("only %d vectors", len(vs))
	}
	return vs
}

func TestVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		if got := Identify(v.hash); got != v.format {
			t.Errorf("vectors.txt:%d: Identify(%q) = %q, want %q", v.line, v.hash, got, v.format)
		}
		ok, err := Verify(v.hash, []byte(v.password))
		if err != nil || !ok {
			t.Errorf("vectors.txt:%d (%s): Verify(%q, %q) = %v, %v, want true, nil", v.line, v.source, v.hash, v.password, ok, err)
		}
		wrong := v.password + "x"
		if (v.format == FormatDES && len(v.password) >= 8) || (v.format == FormatBcrypt && len(v.password) >= 72) {
			wrong = "x" + v.password // the tail is cut off
		}
		ok, err = Verify(v.hash, []byte(wrong))
		if err != nil || ok {
			t.Errorf("vectors.txt:%d: Verify(%q, %q) = %v, %v, want false, nil", v.line, v.hash, wrong, ok, err)
		}
	}
}

// TestTruncation checks the truncations that Apache's tools (and the
// algorithms) apply: bcrypt reads 72 bytes, DES the low 7 bits of 8 bytes.
func TestTruncation(t *testing.T) {
	long := strings.Repeat("a", 100)
	for _, v := range loadVectors(t) {
		if v.password != long {
			continue
		}
		var also string
		switch v.format {
		case FormatBcrypt:
			also = long[:72] + "different tail"
		case FormatDES:
			also = long[:8] + "zzz"
		default:
			continue
		}
		if ok, err := Verify(v.hash, []byte(also)); !ok || err != nil {
			t.Errorf("Verify(%q, %q) = %v, %v, want true (truncated)", v.hash, also, ok, err)
		}
	}
	// DES ignores the high bit of each byte, like crypt(3).
	h, err := hashDES([]byte("\xe1bc"), "ab")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := Verify(h, []byte("abc")); !ok {
		t.Errorf("DES: high bit of password bytes not ignored")
	}
}

func TestIdentify(t *testing.T) {
	tests := []struct {
		in   string
		want Format
	}{
		{"$2y$05$ln40JhcDelfI6TLQtXyA9uWWp7JM/E7Txhl4iHtrjzaKgKI42l4a.", FormatBcrypt},
		{"$2a$x", FormatBcrypt},
		{"$2b$", FormatBcrypt},
		{"$2x$05$ln40JhcDelfI6TLQtXyA9uWWp7JM/E7Txhl4iHtrjzaKgKI42l4a.", FormatUnknown},
		{"$apr1$n2ViD0NI$jdrAAIkwNlBpQ.YMgUF7d1", FormatAPR1},
		{"$1$ab$b2XAKzcGJvTR.javvk3280", FormatMD5Crypt},
		{"{SHA}GpHWL3ymc5liWkNopqtdSjuqYHM=", FormatSHA1},
		{"{SSHA}abc", FormatUnknown},
		{"$5$ab$QC5GKcE5kgMGJf0sNCzrqT/sGcwXhEWAp4Sxjx2lFJA", FormatSHA256Crypt},
		{"$6$x$y", FormatSHA512Crypt},
		{"Lym0Wie/f/wTc", FormatDES},
		{"Lym0Wie/f/wT", FormatUnknown},
		{"Lym0Wie/f/wT:", FormatUnknown},
		{"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", FormatArgon2id},
		{"$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", FormatUnknown},
		{"$y$j9T$salt$hash", FormatUnknown},
		{"pw", FormatUnknown},
		{"", FormatUnknown},
	}
	for _, tt := range tests {
		if got := Identify(tt.in); got != tt.want {
			t.Errorf("Identify(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// badHashes are refused by Check and Verify with the given sentinel.
var badHashes = []struct {
	in   string
	want error
}{
	{"", ErrUnknownFormat},
	{"pw", ErrUnknownFormat},
	{"plaintext-password", ErrUnknownFormat},
	{"$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.RhAtQ7", ErrUnknownFormat},
	{"$2x$05$ln40JhcDelfI6TLQtXyA9uWWp7JM/E7Txhl4iHtrjzaKgKI42l4a.", ErrUnknownFormat},
	{"_J9..CCCCXBrJUJV154M", ErrUnknownFormat},
	// bcrypt
	{"$2y$05$ln40JhcDelfI6TLQtXyA9uWWp7JM/E7Txhl4iHtrjzaKgKI42l4a", ErrMalformedHash},
	{"$2y$05$ln40JhcDelfI6TLQtXyA9uWWp7JM/E7Txhl4iHtrjzaKgKI42l4a.x", ErrMalformedHash},
	{"$2y$5$$ln40JhcDelfI6TLQtXyA9uWWp7JM/E7Txhl4iHtrjzaKgKI42l4a.", ErrMalformedHash},
	{"$2y$03$ln40JhcDelfI6TLQtXyA9uWWp7JM/E7Txhl4iHtrjzaKgKI42l4a.", ErrMalformedHash},
	{"$2y$32$ln40JhcDelfI6TLQtXyA9uWWp7JM/E7Txhl4iHtrjzaKgKI42l4a.", ErrMalformedHash},
	{"$2y$05$ln40JhcDelfI6TLQtXyA9uWWp7JM/E7Txhl4iHtrjzaKgKI42l4a!", ErrMalformedHash},
	{"$2y$05xln40JhcDelfI6TLQtXyA9uWWp7JM/E7Txhl4iHtrjzaKgKI42l4a.", ErrMalformedHash},
	{"$2y$18$ln40JhcDelfI6TLQtXyA9uWWp7JM/E7Txhl4iHtrjzaKgKI42l4a.", ErrCostLimit},
	{"$2y$31$ln40JhcDelfI6TLQtXyA9uWWp7JM/E7Txhl4iHtrjzaKgKI42l4a.", ErrCostLimit},
	// MD5-crypt
	{"$apr1$n2ViD0NI$jdrAAIkwNlBpQ.YMgUF7d", ErrMalformedHash},
	{"$apr1$n2ViD0NI$jdrAAIkwNlBpQ.YMgUF7d1x", ErrMalformedHash},
	{"$apr1$n2ViD0NIx$jdrAAIkwNlBpQ.YMgUF7d1", ErrMalformedHash},
	{"$apr1$n2ViD0NI", ErrMalformedHash},
	{"$apr1$n2 iD0NI$jdrAAIkwNlBpQ.YMgUF7d1", ErrMalformedHash},
	{"$apr1$n2ViD0NI$jdrAAIkwNlBpQ.YMgUF7d!", ErrMalformedHash},
	{"$1$ab$b2XAKzcGJvTR.javvk328", ErrMalformedHash},
	// {SHA}
	{"{SHA}GpHWL3ymc5liWkNopqtdSjuqYHM", ErrMalformedHash},
	{"{SHA}GpHWL3ymc5liWkNopqtdSjuqYHM==", ErrMalformedHash},
	{"{SHA}GpHWL3ymc5liWkNopqtdSjuqYH!=", ErrMalformedHash},
	{"{SHA}", ErrMalformedHash},
	// SHA-crypt
	{"$5$ab$QC5GKcE5kgMGJf0sNCzrqT/sGcwXhEWAp4Sxjx2lFJ", ErrMalformedHash},
	{"$5$ab$QC5GKcE5kgMGJf0sNCzrqT/sGcwXhEWAp4Sxjx2lFJAx", ErrMalformedHash},
	{"$6$ab$QC5GKcE5kgMGJf0sNCzrqT/sGcwXhEWAp4Sxjx2lFJA", ErrMalformedHash},
	{"$5$rounds=999$ab$QC5GKcE5kgMGJf0sNCzrqT/sGcwXhEWAp4Sxjx2lFJA", ErrMalformedHash},
	{"$5$rounds=05000$ab$QC5GKcE5kgMGJf0sNCzrqT/sGcwXhEWAp4Sxjx2lFJA", ErrMalformedHash},
	{"$5$rounds=+5000$ab$QC5GKcE5kgMGJf0sNCzrqT/sGcwXhEWAp4Sxjx2lFJA", ErrMalformedHash},
	{"$5$rounds=1000000000$ab$QC5GKcE5kgMGJf0sNCzrqT/sGcwXhEWAp4Sxjx2lFJA", ErrMalformedHash},
	{"$5$rounds=$ab$QC5GKcE5kgMGJf0sNCzrqT/sGcwXhEWAp4Sxjx2lFJA", ErrMalformedHash},
	{"$5$rounds=5000", ErrMalformedHash},
	{"$5$abcdefghijklmnopq$QC5GKcE5kgMGJf0sNCzrqT/sGcwXhEWAp4Sxjx2lFJA", ErrMalformedHash},
	{"$5$rounds=999999999$ab$QC5GKcE5kgMGJf0sNCzrqT/sGcwXhEWAp4Sxjx2lFJA", ErrCostLimit},
	// DES
	{"Lym0Wie/f/wTd", ErrMalformedHash},
	// argon2id
	{"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPP", ErrMalformedHash},
	{"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ=$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", ErrMalformedHash},
	{"$argon2id$v=16$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", ErrMalformedHash},
	{"$argon2id$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", ErrMalformedHash},
	{"$argon2id$v=19$t=2,m=65536,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", ErrMalformedHash},
	{"$argon2id$v=19$m=65536,t=0,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", ErrMalformedHash},
	{"$argon2id$v=19$m=65536,t=2,p=0$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", ErrMalformedHash},
	{"$argon2id$v=19$m=65536,t=2,p=256$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", ErrMalformedHash},
	{"$argon2id$v=19$m=7,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", ErrMalformedHash},
	{"$argon2id$v=19$m=065536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", ErrMalformedHash},
	{"$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", ErrMalformedHash},
	{"$argon2id$v=19$m=65536,t=2,p=1,keyid=x$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", ErrMalformedHash},
	{"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc$", ErrMalformedHash},
	{"$argon2id$v=19$m=4294967295,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", ErrCostLimit},
	{"$argon2id$v=19$m=65536,t=4294967295,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", ErrCostLimit},
}

func TestBadHashes(t *testing.T) {
	for _, tt := range badHashes {
		if err := Check(tt.in); !errors.Is(err, tt.want) {
			t.Errorf("Check(%q) = %v, want %v", tt.in, err, tt.want)
		}
		ok, err := Verify(tt.in, []byte("pw"))
		if ok || !errors.Is(err, tt.want) {
			t.Errorf("Verify(%q) = %v, %v, want false, %v", tt.in, ok, err, tt.want)
		}
	}
}

// TestRoundTrip hashes with every format and verifies the result.
func TestRoundTrip(t *testing.T) {
	passwords := []string{"pw", "", "пароль", "p:w", strings.Repeat("z", 80)}
	opts := []struct {
		f    Format
		opts HashOptions
	}{
		{FormatBcrypt, HashOptions{BcryptCost: 4}},
		{FormatAPR1, HashOptions{}},
		{FormatMD5Crypt, HashOptions{}},
		{FormatSHA1, HashOptions{}},
		{FormatSHA256Crypt, HashOptions{}},
		{FormatSHA256Crypt, HashOptions{SHACryptRounds: 1000}},
		{FormatSHA512Crypt, HashOptions{}},
		{FormatSHA512Crypt, HashOptions{SHACryptRounds: 5000}},
		{FormatDES, HashOptions{}},
		{FormatArgon2id, HashOptions{Argon2: Argon2Params{Memory: 64, Time: 1, Threads: 1}}},
	}
	for _, o := range opts {
		for _, pw := range passwords {
			h, err := Hash(o.f, []byte(pw), o.opts)
			if err != nil {
				t.Fatalf("Hash(%q, %q) error: %v", o.f, pw, err)
			}
			if got := Identify(h); got != o.f {
				t.Errorf("Identify(Hash(%q)) = %q (%q)", o.f, got, h)
			}
			if ok, err := Verify(h, []byte(pw)); !ok || err != nil {
				t.Errorf("Verify(%q, %q) = %v, %v, want true", h, pw, ok, err)
			}
			if ok, err := Verify(h, []byte("!"+pw)); ok || err != nil {
				t.Errorf("Verify(%q, !+%q) = %v, %v, want false", h, pw, ok, err)
			}
		}
	}
}

func TestHashDetails(t *testing.T) {
	h, _ := Hash(FormatBcrypt, []byte("pw"), HashOptions{BcryptCost: 4})
	if !strings.HasPrefix(h, "$2y$04$") {
		t.Errorf("Hash(bcrypt) = %q, want $2y$04$ prefix", h)
	}
	if !raceEnabled { // bcrypt cost 10 takes seconds under the race detector
		h, _ = Hash(FormatBcrypt, []byte("pw"), HashOptions{})
		if f, c := Cost(h); f != FormatBcrypt || c != DefaultBcryptCost {
			t.Errorf("Cost(default bcrypt) = %q, %d", f, c)
		}
	}
	h, _ = Hash(FormatSHA512Crypt, []byte("pw"), HashOptions{})
	if strings.Contains(h, "rounds=") {
		t.Errorf("Hash(sha512crypt) = %q, want no rounds field", h)
	}
	h, _ = Hash(FormatSHA256Crypt, []byte("pw"), HashOptions{SHACryptRounds: 5000})
	if !strings.HasPrefix(h, "$5$rounds=5000$") {
		t.Errorf("Hash(sha256crypt, 5000) = %q, want rounds=5000", h)
	}
	h, _ = Hash(FormatArgon2id, []byte("pw"), HashOptions{Argon2: Argon2Params{Memory: 64, Time: 1}})
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=2$") {
		t.Errorf("Hash(argon2id) = %q", h)
	}
	h, _ = Hash(FormatPlain, []byte("pw"), HashOptions{})
	if h != "pw" {
		t.Errorf("Hash(plain) = %q", h)
	}
	if ok, err := Verify(h, []byte("pw")); ok || !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("Verify(plain) = %v, %v, want false, ErrUnknownFormat", ok, err)
	}
	for _, bad := range []struct {
		f    Format
		opts HashOptions
		pw   string
	}{
		{FormatBcrypt, HashOptions{BcryptCost: 3}, "pw"},
		{FormatBcrypt, HashOptions{BcryptCost: 18}, "pw"},
		{FormatSHA256Crypt, HashOptions{SHACryptRounds: 999}, "pw"},
		{FormatSHA512Crypt, HashOptions{SHACryptRounds: MaxSHACryptRounds + 1}, "pw"},
		{FormatArgon2id, HashOptions{Argon2: Argon2Params{Memory: MaxArgon2Memory + 1, Time: 1}}, "pw"},
		{FormatArgon2id, HashOptions{Argon2: Argon2Params{Memory: 8, Threads: 4}}, "pw"},
		{FormatPlain, HashOptions{}, "a:b"},
		{FormatPlain, HashOptions{}, "a\nb"},
		{FormatUnknown, HashOptions{}, "pw"},
		{Format("md4"), HashOptions{}, "pw"},
	} {
		if h, err := Hash(bad.f, []byte(bad.pw), bad.opts); err == nil {
			t.Errorf("Hash(%q, %+v) = %q, want error", bad.f, bad.opts, h)
		}
	}
}

func TestCostAndDummy(t *testing.T) {
	tests := []struct {
		hash     string
		format   Format
		cost     int
		wantSame bool // DummyHash keeps the cost
	}{
		{"$2y$05$ln40JhcDelfI6TLQtXyA9uWWp7JM/E7Txhl4iHtrjzaKgKI42l4a.", FormatBcrypt, 5, true},
		{"$apr1$n2ViD0NI$jdrAAIkwNlBpQ.YMgUF7d1", FormatAPR1, 1000, true},
		{"$1$ab$b2XAKzcGJvTR.javvk3280", FormatMD5Crypt, 1000, true},
		{"{SHA}GpHWL3ymc5liWkNopqtdSjuqYHM=", FormatSHA1, 1, true},
		{"$5$ab$QC5GKcE5kgMGJf0sNCzrqT/sGcwXhEWAp4Sxjx2lFJA", FormatSHA256Crypt, 5000, true},
		{"$5$rounds=6000$ab$fdF9O14mkOVQLhT55gqu2VeB4/z6IbywkxHWmrF.CaA", FormatSHA256Crypt, 6000, true},
		{"Lym0Wie/f/wTc", FormatDES, 25, true},
		{"$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$ux9SHpDuHXx25S/9yCGkzv6HbmhmOCNGmO56rRdSTW8", FormatArgon2id, 512, true},
		{"pw", FormatUnknown, 0, false},
		{"$2y$05$short", FormatBcrypt, 0, false},
	}
	for _, tt := range tests {
		if raceEnabled && !tt.wantSame {
			continue // bcrypt cost 10 takes seconds under the race detector
		}
		f, c := Cost(tt.hash)
		if f != tt.format || c != tt.cost {
			t.Errorf("Cost(%q) = %q, %d, want %q, %d", tt.hash, f, c, tt.format, tt.cost)
		}
		d := DummyHash(tt.hash)
		if err := Check(d); err != nil {
			t.Errorf("DummyHash(%q) = %q: Check: %v", tt.hash, d, err)
		}
		df, dc := Cost(d)
		if tt.wantSame && (df != f || dc != c) {
			t.Errorf("Cost(DummyHash(%q)) = %q, %d, want %q, %d", tt.hash, df, dc, f, c)
		}
		if !tt.wantSame && (df != FormatBcrypt || dc != DefaultBcryptCost) {
			t.Errorf("Cost(DummyHash(%q)) = %q, %d, want bcrypt, %d", tt.hash, df, dc, DefaultBcryptCost)
		}
		if d == tt.hash {
			t.Errorf("DummyHash(%q) returned the hash itself", tt.hash)
		}
	}
}

// TestDESCore checks the unsalted DES core against crypto/des.
func TestDESCore(t *testing.T) {
	keys := []uint64{0, 0x0123456789abcdef, 0x133457799bbcdff1, 0xfefefefefefefefe}
	blocks := []uint64{0, 0x0123456789abcdef, 0xffffffffffffffff, 0x4e6f772069732074}
	for _, k := range keys {
		var kb [8]byte
		binary.BigEndian.PutUint64(kb[:], k)
		c, err := des.NewCipher(kb[:])
		if err != nil {
			t.Fatal(err)
		}
		sub := desSubkeys(k)
		e := desE
		for _, b := range blocks {
			var in, want [8]byte
			binary.BigEndian.PutUint64(in[:], b)
			c.Encrypt(want[:], in[:])
			if got := desEncrypt(b, &sub, &e); got != binary.BigEndian.Uint64(want[:]) {
				t.Errorf("desEncrypt(%#x, key %#x) = %#x, want %#x", b, k, got, binary.BigEndian.Uint64(want[:]))
			}
		}
	}
}
