package bolt_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/sluice-dev/sluice/internal/store"
	"github.com/sluice-dev/sluice/internal/store/bolt"
)

// killChild is set in the child process TestRevisionSurvivesKill starts: the path of the store it writes to.
const killChild = "SLUICE_BOLT_KILL_CHILD"

// Ensure a revision UpdateRev acknowledged survives kill -9, together with the data of its commit, and that the
// reopened store's revision is exactly that of its last durable commit.
func TestRevisionSurvivesKill(t *testing.T) {
	if p := os.Getenv(killChild); p != "" {
		commitForever(p)
		return
	}
	p := filepath.Join(t.TempDir(), "sluice.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestRevisionSurvivesKill$")
	cmd.Env = append(os.Environ(), killChild+"="+p)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	var acked int64
	for acked < 50 && sc.Scan() {
		if acked, err = strconv.ParseInt(sc.Text(), 10, 64); err != nil {
			t.Fatalf("child said %q", sc.Text())
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if acked < 50 {
		t.Fatalf("child acknowledged only %d commits", acked)
	}

	s := openWith(t, p, bolt.Options{})
	var rev int64
	var keys int
	err = s.View(context.Background(), func(tx store.Tx) error {
		rev = tx.Revision()
		return tx.Scan("k/", "", func(string, []byte) (bool, error) { keys++; return true, nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	if rev < acked {
		t.Fatalf("after kill -9 the revision is %d, but %d was acknowledged", rev, acked)
	}
	if int64(keys) != rev {
		t.Fatalf("after kill -9: revision %d but %d commits' keys (each commit adds one)", rev, keys)
	}
	if got := put(t, s, "after", "kill"); got != rev+1 {
		t.Fatalf("first commit after reopen got revision %d, want %d", got, rev+1)
	}
}

// commitForever commits one new key per transaction and prints each acknowledged revision, until it is killed.
func commitForever(path string) {
	s, err := bolt.Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for i := 0; ; i++ {
		rev, err := s.UpdateRev(context.Background(), func(tx store.Tx) error {
			return tx.Put(fmt.Sprintf("k/%09d", i), []byte("v"))
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Println(rev)
	}
}
