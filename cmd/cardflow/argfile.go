package main

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
)

// argFileError is the error of reading a file the command line names
// (what: "--event-file", "read the flow document"). A file that is not
// there, may not be read or is a directory is a wrong command line (exit
// 2), as a file of the wrong kind is; an error while reading one is not.
func argFileError(what string, err error) error {
	var ue *usageError
	if errors.As(err, &ue) {
		return err // the file's kind, which names the file
	}
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EISDIR) {
		return &usageError{msg: fmt.Sprintf("%s: %v", what, err), err: err}
	}
	return fmt.Errorf("%s: %w", what, err)
}
