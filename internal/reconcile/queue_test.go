package reconcile

import "testing"

func TestQueueDeduplicatesAndHoldsAKeyForOneWorker(t *testing.T) {
	q := NewQueue[string]()
	q.Add("a")
	q.Add("b")
	q.Add("a")
	if n := q.Len(); n != 2 {
		t.Fatalf("queued %d keys, want 2 (a added twice is queued once)", n)
	}
	k, _ := q.Get()
	if k != "a" {
		t.Fatalf("first key = %q, want a", k)
	}
	q.Add("a") // while a worker holds it: queued again only once Done
	if k, _ := q.Get(); k != "b" {
		t.Fatalf("second key = %q, want b (a is being processed)", k)
	}
	if n := q.Len(); n != 0 {
		t.Fatalf("%d keys handed out while a is processed", n)
	}
	q.Done("a")
	if k, _ := q.Get(); k != "a" {
		t.Fatalf("key after Done = %q, want a again", k)
	}
	q.ShutDown()
	if _, ok := q.Get(); ok {
		t.Fatal("Get after ShutDown")
	}
}
