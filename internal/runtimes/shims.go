package runtimes

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

//go:embed shims
var shimFS embed.FS

// shimFiles lists the embedded files, relative to the shim directory ("node/index.js", ...).
func shimFiles() ([]string, error) {
	var files []string
	err := fs.WalkDir(shimFS, "shims", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel("shims", p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	return files, err
}

// Shim returns the embedded content of one shim file, named relative to the shim directory (NodeShim,
// PythonShim, "node/package.json").
func Shim(name string) ([]byte, error) {
	return shimFS.ReadFile("shims/" + name)
}

// WriteShims writes the embedded shims into dir so that an unprivileged user can read them: dir and its
// subdirectories get mode 0755 (dir is created if missing, and chmodded if it exists), files 0444. It is
// idempotent: files whose content and mode are already right are left alone; others are replaced atomically
// (written to a temporary file in the same directory, then renamed over the old one), so a process starting
// concurrently never sees a partial shim. Files in dir that are not shims are left alone.
func WriteShims(dir string) error {
	files, err := shimFiles()
	if err != nil {
		return fmt.Errorf("runtimes: listing embedded shims: %w", err)
	}
	if err := ensureDir(dir); err != nil {
		return err
	}
	for _, name := range files {
		data, err := Shim(name)
		if err != nil {
			return fmt.Errorf("runtimes: reading embedded shim %s: %w", name, err)
		}
		dst := filepath.Join(dir, filepath.FromSlash(name))
		if err := ensureDir(filepath.Dir(dst)); err != nil {
			return err
		}
		if err := writeFile(dst, data, 0o444); err != nil {
			return err
		}
	}
	return nil
}

func ensureDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("runtimes: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("runtimes: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("runtimes: %s is not a directory", dir)
	}
	if fi.Mode().Perm() != 0o755 {
		if err := os.Chmod(dir, 0o755); err != nil {
			return fmt.Errorf("runtimes: %w", err)
		}
	}
	return nil
}

func writeFile(dst string, data []byte, mode os.FileMode) error {
	if fi, err := os.Lstat(dst); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm() == mode && fi.Size() == int64(len(data)) {
		if old, err := os.ReadFile(dst); err == nil && bytes.Equal(old, data) {
			return nil
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".tmp-"+filepath.Base(dst)+"-*")
	if err != nil {
		return fmt.Errorf("runtimes: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // no-op once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("runtimes: writing %s: %w", dst, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("runtimes: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("runtimes: writing %s: %w", dst, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("runtimes: writing %s: %w", dst, err)
	}
	if err := os.Rename(tmpName, dst); err != nil {
		return fmt.Errorf("runtimes: %w", err)
	}
	return nil
}
