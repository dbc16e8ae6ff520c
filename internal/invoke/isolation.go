package invoke

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// Every environment's Runtime API listens on the host's loopback, which all function processes share, and its paths
// carry no identity: a function that finds another environment's port could take that environment's events and
// answer them. So each Runtime API admits only connections whose socket belongs to its own environment's uid (every
// environment runs as a uid of its own), checked with the kernel before a byte is read.

// errForeignPeer refuses a connection from any process but the environment's own.
var errForeignPeer = errors.New("invoke: connection from outside the environment")

// environments maps the uid of each live environment to it, to name the culprit when one environment reaches for
// another's Runtime API.
type environments struct {
	byUID sync.Map // uint32 → *environment
}

func (r *environments) add(e *environment)    { r.byUID.Store(e.uid, e) }
func (r *environments) remove(e *environment) { r.byUID.CompareAndDelete(e.uid, e) }

// describe names the environment that owns uid, for the refusal log line.
func (r *environments) describe(uid uint32) string {
	if v, ok := r.byUID.Load(uid); ok {
		return v.(*environment).describe()
	}
	return fmt.Sprintf("no environment (uid %d)", uid)
}

func (e *environment) describe() string {
	return fmt.Sprintf("environment %s of %s:%s (uid %d)", e.id, e.pool.target.function, e.pool.target.version, e.uid)
}

// admitOnly returns the Runtime API admission check of the environment e: only its own uid's sockets get through.
func (s *Service) admitOnly(e *environment) func(net.Conn) error {
	return func(c net.Conn) error {
		peer, err := s.sandboxes.PeerUID(c)
		if err == nil && peer == e.uid {
			return nil
		}
		victim := e.describe()
		if err != nil {
			s.refusals.log(s, "runtime API connection refused: its owner is unknown", "environment", victim,
				"remote", c.RemoteAddr().String(), "err", err)
		} else {
			s.refusals.log(s, "runtime API connection refused: another environment reached for this one's events",
				"environment", victim, "from", s.envs.describe(peer))
		}
		return errForeignPeer
	}
}

// refusalLog keeps a hostile function that hammers other environments' ports from flooding the server's log: at
// most refusalBurst lines a second, and a count of what was left out.
type refusalLog struct {
	mu         sync.Mutex
	window     time.Time
	logged     int
	suppressed int
}

const refusalBurst = 20

func (l *refusalLog) log(s *Service, msg string, args ...any) {
	now := time.Now()
	l.mu.Lock()
	if now.Sub(l.window) >= time.Second {
		if l.suppressed > 0 {
			s.log.Warn("runtime API connections refused without a log line", "count", l.suppressed)
		}
		l.window, l.logged, l.suppressed = now, 0, 0
	}
	ok := l.logged < refusalBurst
	if ok {
		l.logged++
	} else {
		l.suppressed++
	}
	l.mu.Unlock()
	if ok {
		s.log.Warn(msg, args...)
	}
}
