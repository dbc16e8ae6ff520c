// Package durable writes small files so that a crash leaves either the old content or the new, whole and on disk:
// the keys, certificates and markers Sluice keeps in its data dir. (Large blobs stream through their own stores,
// blobstore and codestore, which use SyncDir for the same guarantee.)
package durable

import (
	"os"
	"path/filepath"
)

// WriteFile replaces path with data: a temporary file of mode perm in the same directory, synced, renamed over
// path, then the directory synced, so that the rename itself survives a crash.
func WriteFile(path string, data []byte, perm os.FileMode) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(path))
}

// SyncDir makes the entries of directory dir (files created, renamed or removed in it) durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
