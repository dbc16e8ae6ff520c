package invoke

import (
	"bytes"
	"sync"
	"time"
)

// maxInvocationLog bounds what one invocation may log; beyond it lines are dropped with a marker, so a function
// flooding stdout costs bounded memory and log space.
const maxInvocationLog = 256 << 10

// logLine is one line of function output or a platform line (START, END, REPORT).
type logLine struct {
	at   time.Time
	text string
}

// outputSink receives an environment's stdout and stderr (one pipe) and cuts it into lines, which accumulate until
// the invocation they belong to ends. Write never blocks on anything but a short mutex.
type outputSink struct {
	mu      sync.Mutex
	partial []byte
	lines   []logLine
	size    int
	dropped int
}

func (o *outputSink) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := time.Now()
	data := p
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			if len(o.partial) < maxInvocationLog {
				o.partial = append(o.partial, data...)
			}
			break
		}
		line := data[:i]
		if len(o.partial) > 0 {
			line = append(o.partial, line...)
			o.partial = o.partial[:0]
		}
		o.addLocked(now, string(line))
		data = data[i+1:]
	}
	return len(p), nil
}

func (o *outputSink) addLocked(at time.Time, text string) {
	if o.size+len(text) > maxInvocationLog {
		o.dropped++
		return
	}
	o.size += len(text)
	o.lines = append(o.lines, logLine{at: at, text: text})
}

// platform appends a line Sluice itself writes (never dropped).
func (o *outputSink) platform(text string) {
	o.mu.Lock()
	o.lines = append(o.lines, logLine{at: time.Now(), text: text})
	o.mu.Unlock()
}

// take returns the lines collected so far (flushing a partial line) and starts afresh.
func (o *outputSink) take() []logLine {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.partial) > 0 {
		o.lines = append(o.lines, logLine{at: time.Now(), text: string(o.partial)})
		o.partial = o.partial[:0]
	}
	if o.dropped > 0 {
		o.lines = append(o.lines, logLine{at: time.Now(), text: "[sluice] " + itoa(o.dropped) + " log lines dropped: an invocation may log at most 256 KiB"})
	}
	out := o.lines
	o.lines, o.size, o.dropped = nil, 0, 0
	return out
}

// tail renders the last max bytes of lines, as X-Amz-Log-Result carries them.
func tail(lines []logLine, max int) []byte {
	var b []byte
	for i := len(lines) - 1; i >= 0; i-- {
		if len(b)+len(lines[i].text)+1 > max {
			rest := max - len(b)
			if rest > 0 {
				t := lines[i].text + "\n"
				b = append([]byte(t[len(t)-rest:]), b...)
			}
			break
		}
		b = append([]byte(lines[i].text+"\n"), b...)
	}
	return b
}
