//go:build linux

package sandbox

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
)

// TestPeerUID: the uid owning the connecting socket is the creator's, whichever process connects.
func TestPeerUID(t *testing.T) {
	for _, network := range []string{"tcp4", "tcp6"} {
		t.Run(network, func(t *testing.T) {
			addr := "127.0.0.1:0"
			if network == "tcp6" {
				addr = "[::1]:0"
			}
			ln, err := net.Listen(network, addr)
			if err != nil {
				t.Skipf("no %s loopback: %v", network, err)
			}
			defer ln.Close()
			accepted := make(chan net.Conn, 1)
			go func() {
				c, err := ln.Accept()
				if err == nil {
					accepted <- c
				}
			}()
			client, err := net.Dial(network, ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			server := <-accepted
			defer server.Close()
			uid, err := PeerUID(server)
			if err != nil {
				t.Fatal(err)
			}
			if uid != uint32(os.Geteuid()) {
				t.Errorf("PeerUID = %d, want this process's uid %d", uid, os.Geteuid())
			}
			client.Close()
		})
	}
}

// TestPeerUIDOtherUser: a connection made by a process of another uid reports that uid.
func TestPeerUIDOtherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a process as another uid")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("needs bash for /dev/tcp")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	const uid = 61999
	cmd := exec.Command(bash, "-c", "exec 3<>/dev/tcp/127.0.0.1/"+strconv.Itoa(port)+"; read -r line <&3")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	got, err := PeerUID(c)
	c.Write([]byte("done\n")) // lets the child exit
	c.Close()
	if err != nil {
		t.Fatal(err)
	}
	if got != uid {
		t.Errorf("PeerUID = %d, want %d", got, uid)
	}
}

// TestPeerUIDGone: once the connecting socket is gone, there is no owner to report.
func TestPeerUIDGone(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	// SO_LINGER 0 makes Close send a reset and free the socket at once (no FIN_WAIT state).
	client.(*net.TCPConn).SetLinger(0)
	client.Close()
	if _, err := PeerUID(server); !errors.Is(err, ErrPeerUnknown) {
		t.Errorf("PeerUID after the peer reset = %v, want ErrPeerUnknown", err)
	}
}

// TestUIDLeasesAreDisjoint: while a block is held, the next server gets the next one; a released block is reused.
func TestUIDLeasesAreDisjoint(t *testing.T) {
	dir := t.TempDir()
	a, err := leaseUIDsIn(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := leaseUIDsIn(dir)
	if err != nil {
		t.Fatal(err)
	}
	if a.Base == b.Base || a.Base+a.Count > b.Base && b.Base+b.Count > a.Base {
		t.Fatalf("leases overlap: [%d,+%d) and [%d,+%d)", a.Base, a.Count, b.Base, b.Count)
	}
	a.Release()
	c, err := leaseUIDsIn(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.Base != a.Base {
		t.Errorf("a released block was not reused: got %d, want %d", c.Base, a.Base)
	}
	b.Release()
	c.Release()
}
