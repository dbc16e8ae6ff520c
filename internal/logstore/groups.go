package logstore

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// GroupInfo describes a log group that holds events.
type GroupInfo struct {
	Name        string
	FirstEvent  int64 // Unix ms of the oldest retained event
	StoredBytes int64 // bytes on disk, both generations
}

// Group describes one log group; ok is false when the group holds no events (it was never written to).
func (s *Store) Group(logGroup string) (info GroupInfo, ok bool, err error) {
	if err := s.flush(logGroup); err != nil {
		return info, false, err
	}
	return describeGroup(logGroup, s.fileName(logGroup))
}

// Groups lists the log groups that hold events, sorted by name. A name is exact for groups this process has
// written to; otherwise it is recovered from the file name, which is exact for Lambda's default groups
// (/aws/lambda/<function>: function names hold no '/') and a best guess for others (a leading '/', and '_' read
// as '/'). Either way, Find and Streams on the returned name read that group.
func (s *Store) Groups() ([]GroupInfo, error) {
	if err := s.flushAll(); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	known := map[string]string{} // file path → exact group name
	s.mu.Lock()
	for name := range s.groups {
		known[s.fileName(name)] = name
	}
	s.mu.Unlock()

	seen := map[string]bool{}
	var out []GroupInfo
	for _, e := range entries {
		base := strings.TrimSuffix(e.Name(), ".1")
		if e.IsDir() || !strings.HasSuffix(base, ".log") {
			continue
		}
		path := filepath.Join(s.dir, base)
		if seen[path] {
			continue
		}
		seen[path] = true
		name, ok := known[path]
		if !ok {
			name = groupNameFromFile(strings.TrimSuffix(base, ".log"))
		}
		info, ok, err := describeGroup(name, path)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, info)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// groupNameFromFile inverts fileName as well as it can.
func groupNameFromFile(base string) string {
	if rest, ok := strings.CutPrefix(base, "aws_lambda_"); ok {
		return "/aws/lambda/" + rest
	}
	return "/" + strings.ReplaceAll(base, "_", "/")
}

func describeGroup(name, path string) (GroupInfo, bool, error) {
	info := GroupInfo{Name: name}
	found := false
	for _, p := range []string{path + ".1", path} {
		fi, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return info, false, err
		}
		info.StoredBytes += fi.Size()
		if found || fi.Size() == 0 {
			continue
		}
		if err := scan(p, func(e Event) bool {
			info.FirstEvent, found = e.Timestamp, true
			return false
		}); err != nil {
			return info, false, err
		}
	}
	return info, found, nil
}
