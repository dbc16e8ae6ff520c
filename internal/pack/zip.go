package pack

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// zipEpoch is every entry's modification time: the earliest an MS-DOS date can say, so no reader
// mistakes it for a real one.
var zipEpoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// skipped names are never packaged, at any depth. They are never function code, and .git and .aws-sam can be
// larger than the function itself.
var skipped = map[string]bool{".git": true, ".aws-sam": true, "__pycache__": true, ".DS_Store": true}

// entry is one file of the package.
type entry struct {
	name string      // slash path inside the zip
	path string      // file to read the contents from
	mode fs.FileMode // 0644 or 0755
}

// walker collects the files under a directory, following symlinks that stay inside it.
type walker struct {
	ctx     context.Context
	dir     string // Dir as the caller spelled it, for error messages
	root    string // Dir with symlinks resolved, to tell where links point
	entries []entry
	size    int64
}

// walk lists the files to package under dir. Their total size is checked against the unzipped limit before
// anything is compressed.
func walk(ctx context.Context, dir string) ([]entry, error) {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, err
	}
	if root, err = filepath.Abs(root); err != nil {
		return nil, err
	}
	w := &walker{ctx: ctx, dir: dir, root: root}
	if err := w.walkDir(root, "", []string{root}); err != nil {
		return nil, err
	}
	return w.entries, nil
}

// walkDir adds the files of the real directory real, stored under the zip path prefix. stack holds the real
// directories being walked, so a link back to one of them is caught instead of recursing forever.
func (w *walker) walkDir(real, prefix string, stack []string) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	des, err := os.ReadDir(real)
	if err != nil {
		return err
	}
	for _, de := range des {
		if skipped[de.Name()] {
			continue
		}
		name := path.Join(prefix, de.Name())
		full := filepath.Join(real, de.Name())
		shown := filepath.Join(w.dir, filepath.FromSlash(name))
		switch typ := de.Type(); {
		case typ.IsRegular():
			fi, err := de.Info()
			if err != nil {
				return err
			}
			if err := w.add(name, full, fi); err != nil {
				return err
			}
		case typ.IsDir():
			if err := w.walkDir(full, name, append(stack, full)); err != nil {
				return err
			}
		case typ&fs.ModeSymlink != 0:
			if err := w.link(name, full, shown, stack); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: cannot package a %s", shown, typeName(typ))
		}
	}
	return nil
}

// link adds what the symlink at full points to, if that is inside the package.
func (w *walker) link(name, full, shown string, stack []string) error {
	target, err := filepath.EvalSymlinks(full)
	if errors.Is(err, fs.ErrNotExist) {
		dest, _ := os.Readlink(full)
		return fmt.Errorf("%s: dangling symlink (-> %s)", shown, dest)
	} else if err != nil {
		return fmt.Errorf("%s: cannot resolve symlink: %w", shown, err)
	}
	if rel, err := filepath.Rel(w.root, target); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return fmt.Errorf("%s: symlink points outside %s (-> %s)", shown, w.dir, target)
	}
	fi, err := os.Stat(target)
	if err != nil {
		return err
	}
	switch {
	case fi.Mode().IsRegular():
		return w.add(name, target, fi)
	case fi.IsDir():
		if slices.Contains(stack, target) {
			return fmt.Errorf("%s: symlink loops back to its parent directory %s", shown, target)
		}
		return w.walkDir(target, name, append(stack, target))
	}
	return fmt.Errorf("%s: symlink to a %s, which cannot be packaged", shown, typeName(fi.Mode().Type()))
}

func (w *walker) add(name, file string, fi fs.FileInfo) error {
	w.size += fi.Size()
	if w.size > maxUnzipped {
		return tooLarge(w.dir, "unzipped", w.size, maxUnzipped)
	}
	w.entries = append(w.entries, entry{name: name, path: file, mode: zipMode(name, fi.Mode())})
	return nil
}

func typeName(t fs.FileMode) string {
	switch {
	case t&fs.ModeNamedPipe != 0:
		return "named pipe"
	case t&fs.ModeSocket != 0:
		return "socket"
	case t&fs.ModeDevice != 0:
		return "device"
	}
	return "special file"
}

// errZipLimit stops compression as soon as the zip outgrows maxZipped, so an oversized package never sits
// whole in memory.
var errZipLimit = errors.New("zip limit reached")

type limitWriter struct {
	w    io.Writer
	left int64
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.left {
		return 0, errZipLimit
	}
	l.left -= int64(len(p))
	return l.w.Write(p)
}

// writeZip writes entries as a deterministic zip (see the package documentation). dir names the package in
// errors. Sizes are enforced on the bytes really read, in case files grew since they were listed.
func writeZip(dir string, entries []entry) ([]byte, error) {
	entries = slices.Clone(entries)
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.name, b.name) })

	var buf bytes.Buffer
	zw := zip.NewWriter(&limitWriter{w: &buf, left: maxZipped})
	var total int64
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: zipEpoch}
		h.SetMode(e.mode)
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return nil, zipErr(dir, err)
		}
		n, err := copyFile(fw, e.path, maxUnzipped-total)
		total += n
		if total > maxUnzipped {
			return nil, exceeded(dir, "unzipped", maxUnzipped)
		}
		if err != nil {
			return nil, zipErr(dir, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, zipErr(dir, err)
	}
	return buf.Bytes(), nil
}

func zipErr(dir string, err error) error {
	if errors.Is(err, errZipLimit) {
		return exceeded(dir, "zipped", maxZipped)
	}
	return err
}

// copyFile copies at most left+1 bytes of file to w: one byte over is enough to know the limit is exceeded.
func copyFile(w io.Writer, file string, left int64) (int64, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return io.Copy(w, io.LimitReader(f, left+1))
}
