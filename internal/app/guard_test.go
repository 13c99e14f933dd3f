package app

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// guardConfig trusts the loopback proxy so that tests can speak for many
// client addresses with X-Forwarded-For.
const guardConfig = membersConfig + `
trusted_proxies: [127.0.0.1]
metrics_listen: 127.0.0.1:0
`

func (f *fixture) from(ip, path, auth string) (*http.Response, string) {
	f.t.Helper()
	h := []string{"X-Forwarded-For", ip}
	if auth != "" {
		h = append(h, "Authorization", auth)
	}
	return f.do("GET", path, h...)
}

func (f *fixture) ops(method, path string) (int, string) {
	f.t.Helper()
	req, _ := http.NewRequest(method, "http://"+f.app.OpsAddr().String()+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestGuardLocksOutPairBeforeHashing(t *testing.T) {
	f := start(t, guardConfig)
	good := basic("alice", "Wonderland-1")
	// Requests without credentials are never failures.
	for range 10 {
		if r, _ := f.from("198.51.100.7", "/members/", ""); r.StatusCode != 401 {
			t.Fatalf("no credentials: %d, want 401", r.StatusCode)
		}
	}
	for i := range 5 {
		if r, _ := f.from("198.51.100.7", "/members/", basic("alice", "guess"+strconv.Itoa(i))); r.StatusCode != 401 {
			t.Fatalf("failure %d: %d, want 401", i+1, r.StatusCode)
		}
	}
	r, body := f.from("198.51.100.7", "/members/", good)
	if r.StatusCode != 429 {
		t.Fatalf("right password after 5 failures: %d, want 429 (body %q)", r.StatusCode, body)
	}
	ra, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || ra < 250 || ra > 300 {
		t.Errorf("Retry-After = %q, want about 300 seconds", r.Header.Get("Retry-After"))
	}
	if r.Header.Get("WWW-Authenticate") != "" {
		t.Errorf("429 carries a challenge")
	}
	// Another address is not affected by the pair's ban.
	if r, _ := f.from("198.51.100.8", "/members/", good); r.StatusCode != 200 {
		t.Errorf("alice from another address: %d, want 200", r.StatusCode)
	}
	// The lockout is listed and audited, and can be cleared.
	if !strings.Contains(f.logs.String(), `"msg":"audit","kind":"lockout"`) {
		t.Errorf("no audit line for the lockout:\n%s", f.logs.String())
	}
	status, list := f.ops("GET", "/lockouts")
	var ls []LockoutJSON
	if status != 200 || json.Unmarshal([]byte(list), &ls) != nil || len(ls) != 1 || ls[0].User != "alice" || ls[0].Client != "198.51.100.7" {
		t.Fatalf("GET /lockouts = %d %s, want one lockout of alice at 198.51.100.7", status, list)
	}
	if status, _ := f.ops("POST", "/lockouts/clear?client=198.51.100.7&user=alice"); status != 200 {
		t.Fatalf("clear: %d", status)
	}
	if r, _ := f.from("198.51.100.7", "/members/", good); r.StatusCode != 200 {
		t.Errorf("after clear: %d, want 200", r.StatusCode)
	}
	status, metrics := f.ops("GET", "/metrics")
	for _, want := range []string{`htgate_auth_failures_total{reason="logon_failed"} 5`, `htgate_auth_failures_total{reason="too_many_requests"} 1`, "htgate_lockouts_active", "htgate_guard_evictions_total"} {
		if status != 200 || !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestGuardOwnerNotLockedOutByDistributedGuessing(t *testing.T) {
	f := start(t, guardConfig)
	good := basic("alice", "Wonderland-1")
	if r, _ := f.from("203.0.113.10", "/members/", good); r.StatusCode != 200 {
		t.Fatalf("owner's first login: %d", r.StatusCode)
	}
	// Ten addresses guess alice's password once each: the user name is banned.
	for i := range 10 {
		f.from("192.0.2."+strconv.Itoa(i+1), "/members/", basic("alice", "guess"))
	}
	if r, _ := f.from("192.0.2.200", "/members/", good); r.StatusCode != 429 {
		t.Errorf("alice from a new address after distributed guessing: %d, want 429", r.StatusCode)
	}
	// The owner's address, which logged in recently, still gets in.
	if r, _ := f.from("203.0.113.10", "/members/", good); r.StatusCode != 200 {
		t.Errorf("owner from the trusted address: %d, want 200", r.StatusCode)
	}
}

func TestGuardBansClientAcrossUsers(t *testing.T) {
	f := start(t, guardConfig)
	for i := range 20 {
		f.from("192.0.2.50", "/members/", basic("user"+strconv.Itoa(i), "x"))
	}
	if r, _ := f.from("192.0.2.50", "/members/", basic("bob", "b0b pass w/ space")); r.StatusCode != 429 {
		t.Errorf("after 20 failures with different users: %d, want 429", r.StatusCode)
	}
	// An address spoofed by an untrusted peer is ignored: this comes from 127.0.0.1 itself.
	if r, _ := f.do("GET", "/members/", "Authorization", basic("bob", "b0b pass w/ space")); r.StatusCode != 200 {
		t.Errorf("other client: %d, want 200", r.StatusCode)
	}
}

func TestGuardAnswers401WhenConfigured(t *testing.T) {
	f := start(t, guardConfig+"guard: {answer_status: 401, max_failures_per_client_user: 2}\n")
	for range 2 {
		f.from("192.0.2.9", "/members/", basic("alice", "x"))
	}
	r, _ := f.from("192.0.2.9", "/members/", basic("alice", "Wonderland-1"))
	if r.StatusCode != 401 || r.Header.Get("WWW-Authenticate") == "" || r.Header.Get("Retry-After") == "" {
		t.Errorf("locked out with answer_status 401: %d challenge %q retry %q", r.StatusCode, r.Header.Get("WWW-Authenticate"), r.Header.Get("Retry-After"))
	}
}

func TestClientRateLimit(t *testing.T) {
	f := start(t, guardConfig+"client_limits: {rate_per_second: 1, burst: 3, allow_list: [192.0.2.99]}\n")
	var statuses []int
	for range 6 {
		r, _ := f.from("192.0.2.1", "/", "")
		statuses = append(statuses, r.StatusCode)
	}
	if !slices.Contains(statuses, 429) || statuses[0] != 200 {
		t.Errorf("statuses over the rate: %v, want 200 first then 429", statuses)
	}
	for range 6 {
		if r, _ := f.from("192.0.2.99", "/", ""); r.StatusCode != 200 {
			t.Fatalf("allow-listed client limited: %d", r.StatusCode)
		}
	}
}

// TestUnknownUserCostsTheSame checks that an unknown user and a known user
// with a wrong password take the same median time (within 5%): an unknown
// user is verified against a dummy hash of the same format and cost. The
// two kinds of request alternate, and the median of the per-pair ratios
// is compared, so that drift in the machine's load cancels out.
func TestUnknownUserCostsTheSame(t *testing.T) {
	f := start(t, membersConfig+"guard: {disabled: true}\ncredential_cache: {size: -1}\n")
	lines := htpasswdLine(t, "B", "-C 7", "erin", "erin-pw") + "\n" + htpasswdLine(t, "B", "-C 7", "frank", "frank-pw") + "\n"
	if err := os.WriteFile(f.htpass, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if r, _ := f.do("GET", "/members/", "Authorization", basic("erin", "erin-pw")); r.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("new htpasswd file not picked up")
		}
		time.Sleep(50 * time.Millisecond)
	}
	measure := func(auth string) time.Duration {
		req, _ := http.NewRequest("GET", f.base+"/members/", nil)
		req.Header.Set("Authorization", auth)
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		took := time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Fatalf("status %d, want 401", resp.StatusCode)
		}
		return took
	}
	// A systematic difference (an unknown user skipping the hash) shows in
	// every round; a burst of load from other processes shows in one. So
	// the test passes when one of up to three rounds is within 5%.
	const n = 41
	for round := 1; ; round++ {
		var known, unknown []time.Duration
		var ratios []float64
		for i := range n {
			var k, u time.Duration
			if i%2 == 0 {
				k = measure(basic("erin", "wrong"))
				u = measure(basic("nosuchuser"+strconv.Itoa(i), "wrong"))
			} else {
				u = measure(basic("nosuchuser"+strconv.Itoa(i), "wrong"))
				k = measure(basic("erin", "wrong"))
			}
			known, unknown = append(known, k), append(unknown, u)
			ratios = append(ratios, float64(u)/float64(k))
		}
		slices.Sort(known)
		slices.Sort(unknown)
		slices.Sort(ratios)
		ratio := ratios[n/2]
		t.Logf("round %d: median known user, wrong password: %v; unknown user: %v; median ratio %.3f", round, known[n/2], unknown[n/2], ratio)
		if ratio >= 0.95 && ratio <= 1.05 {
			return
		}
		if round == 3 {
			t.Errorf("unknown user vs known user with a wrong password: median time ratio %.3f (medians %v vs %v), want within 5%%", ratio, unknown[n/2], known[n/2])
			return
		}
	}
}
