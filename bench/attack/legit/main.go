package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// result is the outcome of one request.
type result struct {
	status  int           // 0 for a transport error
	latency time.Duration // from sending the request to the end of the answer
	wait    time.Duration // from the request's scheduled time to the end of the answer
	late    bool          // scheduled after the first -settle of the run
	size    int64
}

func main() {
	url := flag.String("url", "", "protected URL to request (http://127.0.0.1:PORT/p/file.bin)")
	user := flag.String("user", "bench", "user name")
	pass := flag.String("pass", "", "the user's right password")
	client := flag.String("client", "203.0.113.5", "client address to send in the forwarded header")
	header := flag.String("header", "X-Forwarded-For", "forwarded header: X-Forwarded-For or Forwarded")
	rate := flag.Float64("rate", 50, "requests per second")
	workers := flag.Int("workers", 4, "concurrent connections")
	dur := flag.Duration("duration", 30*time.Second, "how long to send")
	timeout := flag.Duration("timeout", 10*time.Second, "per-request timeout")
	size := flag.Int64("size", -1, "expected body size of a 200 (-1: any)")
	settle := flag.Duration("settle", 5*time.Second, "the settled_* percentiles count only requests scheduled after this much of the run")
	flag.Parse()
	if *url == "" || *pass == "" || *rate <= 0 || *workers <= 0 || *dur <= 0 {
		fmt.Fprintln(os.Stderr, "legit: -url, -pass, a positive -rate, -workers and -duration are needed")
		os.Exit(2)
	}
	fwd := *client
	if strings.EqualFold(*header, "Forwarded") {
		fwd = "for=" + *client
	}
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(*user+":"+*pass))

	tr := &http.Transport{MaxIdleConnsPerHost: *workers, MaxConnsPerHost: *workers, DisableCompression: true}
	hc := &http.Client{Transport: tr, Timeout: *timeout}
	defer tr.CloseIdleConnections()

	begin := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), *dur)
	defer cancel()
	// Every tick is queued with its scheduled time, however busy the workers
	// are, so that a stall shows in the latency from the scheduled time (no
	// coordinated omission): what a user who clicked then would wait.
	ticks := make(chan time.Time, int((*rate)*dur.Seconds())+16)
	var (
		mu      sync.Mutex
		results []result
		wg      sync.WaitGroup
	)
	for range *workers {
		wg.Go(func() {
			for sched := range ticks {
				r := one(hc, *url, auth, *header, fwd)
				r.wait = time.Since(sched)
				r.late = sched.Sub(begin) >= *settle
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
			}
		})
	}
	t := time.NewTicker(time.Duration(float64(time.Second) / *rate))
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case now := <-t.C:
			ticks <- now
		}
	}
	t.Stop()
	close(ticks)
	wg.Wait()
	report(os.Stdout, results, *size)
}

// one sends one request and reads the whole answer.
func one(hc *http.Client, url, auth, header, fwd string) result {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return result{}
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set(header, fwd)
	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		return result{latency: time.Since(start)}
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	lat := time.Since(start)
	if err != nil && !errors.Is(err, io.EOF) {
		return result{latency: lat}
	}
	return result{status: resp.StatusCode, latency: lat, size: n}
}

// report prints the LEGIT line.
func report(w io.Writer, rs []result, size int64) {
	var ok, non200, errs int
	statuses := map[int]int{}
	lats := make([]time.Duration, 0, len(rs))
	waits := make([]time.Duration, 0, len(rs))
	var settled []time.Duration
	for _, r := range rs {
		if r.late {
			settled = append(settled, r.wait)
		}
		lats = append(lats, r.latency)
		waits = append(waits, r.wait)
		switch {
		case r.status == 0:
			errs++
		case r.status == http.StatusOK && (size < 0 || r.size == size):
			ok++
			statuses[r.status]++
		default:
			non200++
			statuses[r.status]++
		}
	}
	slices.Sort(lats)
	slices.Sort(waits)
	slices.Sort(settled)
	codes := make([]int, 0, len(statuses))
	for c := range statuses {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var sb strings.Builder
	for i, c := range codes {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, "%d:%d", c, statuses[c])
	}
	if sb.Len() == 0 {
		sb.WriteString("none")
	}
	fmt.Fprintf(w, "LEGIT requests=%d ok=%d non200=%d errors=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d "+
		"wait_p50_us=%d wait_p99_us=%d wait_max_us=%d settled=%d settled_p99_us=%d settled_max_us=%d statuses=%s\n",
		len(rs), ok, non200, errs, pct(lats, 50), pct(lats, 90), pct(lats, 99), pct(lats, 100),
		pct(waits, 50), pct(waits, 99), pct(waits, 100),
		len(settled), pct(settled, 99), pct(settled, 100), sb.String())
}

// pct is the p-th percentile of sorted (nearest rank), in microseconds.
func pct(sorted []time.Duration, p float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.999999) - 1
	i = min(max(i, 0), len(sorted)-1)
	return sorted[i].Microseconds()
}
