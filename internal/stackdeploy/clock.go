package stackdeploy

import "time"

// clock is the time a deploy reads and waits on (polls of a deployment, of a function leaving Pending). Tests give
// a fake one, so that a deploy they drive never sleeps.
type clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
