//go:build !linux

package scratch

import (
	"errors"
	"os"
)

func loopUsable() error { return errors.New("scratch volumes need Linux loop devices") }

func attach(string) (string, *os.File, error) { return "", nil, loopUsable() }

func mountDetached(string) (*os.File, error) { return nil, loopUsable() }

func copySparse(string, string) error { return loopUsable() }
