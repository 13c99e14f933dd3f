package app

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/htgate/htgate/internal/config"
)

// writeCert writes a self-signed certificate for 127.0.0.1 with the
// serial number given and returns its DER bytes.
func writeCert(t *testing.T, certFile, keyFile string, serial int64) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{CommonName: fmt.Sprintf("htgate test %d", serial)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	// Written next to the files and renamed, as certbot and friends do.
	for _, f := range []struct {
		path string
		blk  *pem.Block
	}{{keyFile, &pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}}, {certFile, &pem.Block{Type: "CERTIFICATE", Bytes: der}}} {
		tmp := f.path + ".tmp"
		if err := os.WriteFile(tmp, pem.EncodeToMemory(f.blk), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, f.path); err != nil {
			t.Fatal(err)
		}
	}
	return der
}

// tlsGet connects anew (no connection reuse) and returns the response's
// protocol and the serial number of the certificate served.
func tlsGet(t *testing.T, base string, pool *x509.CertPool, auth string) (proto string, serial int64, status int) {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest("GET", base+"/members/page.html", nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return "", 0, 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Proto, resp.TLS.PeerCertificates[0].SerialNumber.Int64(), resp.StatusCode
}

func TestTLSHTTP2AndReload(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	der1 := writeCert(t, certFile, keyFile, 1)
	f := start(t, membersConfig+fmt.Sprintf("tls: {cert: %s, key: %s}\n", certFile, keyFile))
	base := "https://" + f.app.Addr().String()
	pool := x509.NewCertPool()
	c1, _ := x509.ParseCertificate(der1)
	pool.AddCert(c1)

	proto, serial, status := tlsGet(t, base, pool, basic("alice", "Wonderland-1"))
	if proto != "HTTP/2.0" || serial != 1 || status != 200 {
		t.Fatalf("GET over TLS = %s, cert %d, status %d; want HTTP/2.0, cert 1, 200\n%s", proto, serial, status, f.logs)
	}
	if _, _, status := tlsGet(t, base, pool, ""); status != 401 {
		t.Errorf("GET without credentials over TLS = %d, want 401", status)
	}
	// Plain HTTP on the TLS port is not served.
	if resp, err := http.Get("http://" + f.app.Addr().String() + "/"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("plain HTTP on the TLS listener = %d, want 400", resp.StatusCode)
		}
	}

	time.Sleep(1100 * time.Millisecond) // the files' mtime must move
	der2 := writeCert(t, certFile, keyFile, 2)
	c2, _ := x509.ParseCertificate(der2)
	pool.AddCert(c2)
	deadline := time.Now().Add(3 * time.Second)
	for {
		_, serial, _ = tlsGet(t, base, pool, "")
		if serial == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the new certificate is not served 3 s after it was written (serial %d)\n%s", serial, f.logs)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(f.logs.String(), "TLS certificate reloaded") {
		t.Errorf("no log line for the reload:\n%s", f.logs)
	}

	// A broken pair keeps the previous certificate.
	time.Sleep(1100 * time.Millisecond)
	if err := os.WriteFile(certFile, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	if _, serial, _ = tlsGet(t, base, pool, ""); serial != 2 {
		t.Errorf("after a broken certificate file the served serial = %d, want 2 (the previous one)", serial)
	}
}

func TestPlainAuthWarning(t *testing.T) {
	tests := []struct {
		name, listen string
		tls          bool
		rules        []config.Rule
		proxy        bool
		want         bool
	}{
		{"loopback", "127.0.0.1:8080", false, []config.Rule{{Path: "/a"}}, false, false},
		{"localhost", "localhost:8080", false, []config.Rule{{Path: "/a"}}, false, false},
		{"network basic", "0.0.0.0:8080", false, []config.Rule{{Path: "/a"}}, false, true},
		{"all interfaces", ":8080", false, []config.Rule{{Path: "/a", Schemes: []string{"basic"}}}, false, true},
		{"network digest only", "192.0.2.1:8080", false, []config.Rule{{Path: "/a", Schemes: []string{"digest"}}}, false, false},
		{"network form", "192.0.2.1:8080", false, []config.Rule{{Path: "/a", Schemes: []string{"form"}}}, false, true},
		{"network tls", "0.0.0.0:8443", true, []config.Rule{{Path: "/a"}}, false, false},
		{"network no rules", "0.0.0.0:8080", false, nil, false, false},
		{"network proxy", "0.0.0.0:3128", false, nil, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &config.Config{Listen: tt.listen, Rules: tt.rules}
			cfg.ForwardProxy.Enabled = tt.proxy
			if tt.tls {
				cfg.TLS = config.TLS{Cert: "c.pem", Key: "k.pem"}
			}
			var logs syncBuffer
			a := &App{cfg: cfg, logger: slog.New(slog.NewJSONHandler(&logs, nil))}
			a.warnPlainAuth()
			got := strings.Contains(logs.String(), `"level":"WARN"`) && strings.Contains(logs.String(), "clear text")
			if got != tt.want {
				t.Errorf("warning for %s = %v, want %v (log %q)", tt.listen, got, tt.want, logs.String())
			}
		})
	}
}

// curl runs curl with no proxy from the environment and returns its
// standard output.
func curl(t *testing.T, args ...string) string {
	t.Helper()
	bin := needTool(t, "curl")
	cmd := exec.Command(bin, append([]string{"-s", "--noproxy", "", "--max-time", "10"}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	out, _ := cmd.Output() // curl's exit status is non-zero for a refused CONNECT; the output says why
	return string(out)
}

const forwardProxyConfig = membersConfig + `
forward_proxy:
  enabled: true
  allow_private: true     # the tests' destinations are on 127.0.0.1
  realm: Test proxy
  htpasswd: {htpasswd}
`

func TestForwardProxyCurl(t *testing.T) {
	needTool(t, "curl")
	f := start(t, forwardProxyConfig)
	proxy := f.base
	var mu sync.Mutex
	var sawProxyAuth, sawRemoteUser string
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sawProxyAuth, sawRemoteUser = r.Header.Get("Proxy-Authorization"), r.Header.Get("Remote-User")
		mu.Unlock()
		fmt.Fprintf(w, "DEST %s", r.URL.Path)
	}))
	defer plain.Close()
	secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "SECURE %s", r.URL.Path)
	}))
	defer secure.Close()

	out := curl(t, "-x", proxy, "-D", "-", plain.URL+"/x")
	if !strings.HasPrefix(out, "HTTP/1.1 407") || !strings.Contains(out, `Proxy-Authenticate: Basic realm="Test proxy"`) || strings.Contains(out, "DEST") {
		t.Errorf("curl -x without credentials:\n%s", out)
	}
	out = curl(t, "-x", proxy, "--proxy-user", "alice:nope", "-w", "%{http_code}", "-o", "/dev/null", plain.URL+"/x")
	if out != "407" {
		t.Errorf("curl -x with a wrong password: status %q, want 407", out)
	}
	out = curl(t, "-x", proxy, "--proxy-user", "alice:Wonderland-1", "-H", "Remote-User: mallory", plain.URL+"/x")
	if out != "DEST /x" {
		t.Errorf("curl -x --proxy-user = %q, want %q\n%s", out, "DEST /x", f.logs)
	}
	mu.Lock()
	defer mu.Unlock()
	if sawProxyAuth != "" {
		t.Errorf("the destination got Proxy-Authorization %q", sawProxyAuth)
	}
	if sawRemoteUser != "mallory" {
		t.Errorf("the destination got Remote-User %q, want the client's own %q (htgate vouches for nothing there)", sawRemoteUser, "mallory")
	}
	// CONNECT to a TLS server.
	out = curl(t, "-x", proxy, "--proxy-user", "alice:Wonderland-1", "-k", secure.URL+"/y")
	if out != "SECURE /y" {
		t.Errorf("CONNECT through the proxy = %q, want %q\n%s", out, "SECURE /y", f.logs)
	}
	out = curl(t, "-x", proxy, "-w", "%{http_connect}", "-o", "/dev/null", "-k", secure.URL+"/y")
	if out != "407" {
		t.Errorf("CONNECT without credentials: %q, want 407", out)
	}
	// Ordinary requests still go to the site, with WWW-Authenticate.
	resp, body := f.do("GET", "/members/page.html")
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" || resp.Header.Get("Proxy-Authenticate") != "" {
		t.Errorf("origin-form GET = %d %v %q", resp.StatusCode, resp.Header, body)
	}
	if strings.Contains(f.logs.String(), "Wonderland-1") {
		t.Errorf("the password is in the log")
	}
}

func TestForwardProxyRefusesPrivate(t *testing.T) {
	f := start(t, strings.Replace(forwardProxyConfig, "allow_private: true", "allow_private: false", 1))
	dest := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the destination was reached: %s", r.URL)
	}))
	defer dest.Close()
	pu, _ := url.Parse(f.base)
	pu.User = url.UserPassword("alice", "Wonderland-1")
	tr := &http.Transport{Proxy: http.ProxyURL(pu)}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get(dest.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET %s through the proxy = %d, want 403", dest.URL, resp.StatusCode)
	}
	// CONNECT too.
	conn, err := net.Dial("tcp", f.app.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	host := strings.TrimPrefix(dest.URL, "http://")
	fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\nProxy-Authorization: %s\r\n\r\n", host, host, basic("alice", "Wonderland-1"))
	line := make([]byte, 12)
	if _, err := io.ReadFull(conn, line); err != nil || string(line) != "HTTP/1.1 403" {
		t.Errorf("CONNECT %s = %q (%v), want HTTP/1.1 403", host, line, err)
	}
}
