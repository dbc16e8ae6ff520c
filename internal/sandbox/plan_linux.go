package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// The plan's wire format, read by both inits (the C one in init_linux.c and the Go one in init_linux.go), so it
// must stay trivial to parse without a library: a sequence of fields, each its bytes followed by a NUL (no field
// may contain one, as none of argv, the environment or a path can), integers in decimal, booleans 0 or 1, each
// list preceded by its length. The order is planMagic, then the initPlan fields in the order encode writes them.
const (
	planMagic = "SLUICEPLAN1"
	// maxPlanBytes bounds what an init reads (Lambda caps a function's environment at 4 KB; the rest is paths).
	maxPlanBytes = 1 << 20
	// maxPlanList bounds every list's length.
	maxPlanList = 1 << 16
)

// encode writes the plan in the wire format above.
func (p *initPlan) encode() ([]byte, error) {
	var b bytes.Buffer
	var bad string
	str := func(s string) {
		if bad == "" && bytes.IndexByte([]byte(s), 0) >= 0 {
			bad = s
		}
		b.WriteString(s)
		b.WriteByte(0)
	}
	num := func(n uint64) { str(strconv.FormatUint(n, 10)) }
	inum := func(n int) { str(strconv.Itoa(n)) }
	flag := func(v bool) {
		if v {
			str("1")
		} else {
			str("0")
		}
	}
	strs := func(l []string) {
		inum(len(l))
		for _, s := range l {
			str(s)
		}
	}
	str(planMagic)
	str(p.Path)
	strs(p.Argv)
	strs(p.Env)
	str(p.Dir)
	inum(p.UID)
	inum(p.GID)
	inum(p.ParentPID)
	flag(p.MountNS)
	strs(p.Mkdirs)
	flag(p.ReadOnlyRoot)
	inum(len(p.Mounts))
	for _, m := range p.Mounts {
		str(m.Source)
		str(m.Target)
		str(m.FSType)
		str(m.Data)
		num(uint64(m.Flags))
		num(uint64(m.Remount))
		inum(m.ServerFD)
	}
	flag(p.TmpFresh)
	inum(len(p.Rlimits))
	for _, r := range p.Rlimits {
		str(r.Name)
		inum(r.Resource)
		num(r.Cur)
		num(r.Max)
	}
	num(p.DataLimit)
	inum(len(p.CPUs))
	for _, c := range p.CPUs {
		inum(c)
	}
	switch {
	case bad != "":
		return nil, fmt.Errorf("sandbox: %q contains a NUL byte", bad)
	case len(p.Argv) == 0:
		return nil, errors.New("sandbox: empty argv")
	case b.Len() > maxPlanBytes:
		return nil, fmt.Errorf("sandbox: the plan takes %d bytes, more than %d", b.Len(), maxPlanBytes)
	}
	for _, n := range []int{len(p.Argv), len(p.Env), len(p.Mkdirs), len(p.Mounts), len(p.Rlimits), len(p.CPUs)} {
		if n > maxPlanList {
			return nil, fmt.Errorf("sandbox: a plan list of %d entries, more than %d", n, maxPlanList)
		}
	}
	return b.Bytes(), nil
}

// planReader takes the fields of an encoded plan in order; the first problem sticks.
type planReader struct {
	rest []byte
	err  error
}

func (r *planReader) str() string {
	if r.err != nil {
		return ""
	}
	i := bytes.IndexByte(r.rest, 0)
	if i < 0 {
		r.err = errors.New("plan: truncated")
		return ""
	}
	s := string(r.rest[:i])
	r.rest = r.rest[i+1:]
	return s
}

func (r *planReader) num(bits int) uint64 {
	s := r.str()
	if r.err != nil {
		return 0
	}
	n, err := strconv.ParseUint(s, 10, bits)
	if err != nil {
		r.err = fmt.Errorf("plan: %w", err)
	}
	return n
}

func (r *planReader) int() int   { return int(r.num(31)) }
func (r *planReader) flag() bool { return r.num(1) == 1 }
func (r *planReader) count() int {
	n := r.int()
	if n > maxPlanList {
		r.err = fmt.Errorf("plan: a list of %d entries", n)
		return 0
	}
	return n
}

func (r *planReader) strs() []string {
	n := r.count()
	var l []string
	for range n {
		l = append(l, r.str())
	}
	return l
}

// decodePlan parses what encode wrote.
func decodePlan(b []byte) (initPlan, error) {
	var p initPlan
	r := &planReader{rest: b}
	if magic := r.str(); r.err == nil && magic != planMagic {
		return p, fmt.Errorf("plan: starts with %q, not %q", magic, planMagic)
	}
	p.Path = r.str()
	p.Argv = r.strs()
	p.Env = r.strs()
	p.Dir = r.str()
	p.UID, p.GID, p.ParentPID = r.int(), r.int(), r.int()
	p.MountNS = r.flag()
	p.Mkdirs = r.strs()
	p.ReadOnlyRoot = r.flag()
	for range r.count() {
		m := mountOp{Source: r.str(), Target: r.str(), FSType: r.str(), Data: r.str()}
		m.Flags, m.Remount = uintptr(r.num(64)), uintptr(r.num(64))
		m.ServerFD = r.int()
		p.Mounts = append(p.Mounts, m)
	}
	p.TmpFresh = r.flag()
	for range r.count() {
		p.Rlimits = append(p.Rlimits, rlimitOp{Name: r.str(), Resource: r.int(), Cur: r.num(64), Max: r.num(64)})
	}
	p.DataLimit = r.num(64)
	for range r.count() {
		p.CPUs = append(p.CPUs, r.int())
	}
	switch {
	case r.err != nil:
		return p, r.err
	case len(r.rest) > 0:
		return p, fmt.Errorf("plan: %d bytes after its end", len(r.rest))
	case len(p.Argv) == 0:
		return p, errors.New("plan: empty argv")
	}
	return p, nil
}
