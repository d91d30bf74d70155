package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"unicode/utf8"

	"github.com/cardflow/cardflow/internal/api"
)

// readFlowFile reads the flow document in file. What no server could take
// (a directory, an empty file or one of blank lines, a binary file, a file over the size limit)
// is named with the file and what to do, before anything is sent, as a
// wrong command line; a file that cannot be opened is os.Open's error
// (fs.ErrNotExist: it may name a stored flow), for argFileError.
func readFlowFile(file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, usagef("%s is a directory: give the path of a flow document, a YAML file such as examples/offboard-user-devices.yaml", file)
	}
	// One byte past the limit tells a file over it, whatever its size
	// (a device, a pipe, a log file given by mistake).
	src, err := io.ReadAll(io.LimitReader(f, api.MaxFlowDocumentSize+1))
	if err != nil {
		return nil, err
	}
	switch {
	case len(src) > api.MaxFlowDocumentSize:
		return nil, usagef("%s is larger than %d bytes (1 MiB), the limit of a flow document: split the flow into smaller flows", file, api.MaxFlowDocumentSize)
	case len(bytes.TrimSpace(src)) == 0:
		return nil, usagef("%s is empty: a flow document is YAML with a name and steps (see the examples/ directory of the cardflow repository)", file)
	case !utf8.Valid(src):
		return nil, usagef("%s is not UTF-8 text (at byte %d): a flow document is YAML; give the right file, or save it as UTF-8", file, invalidUTF8At(src))
	}
	if i := controlAt(src); i >= 0 {
		return nil, usagef("%s is not a text file (a control character, 0x%02x, at byte %d): a flow document is YAML; give the right file", file, src[i], i)
	}
	return src, nil
}

// flowFileError is argFileError of readFlowFile's error for file, saying
// for a relative path that is not there where it was looked for: the
// demo's and the README's commands name examples/ of the repository.
func flowFileError(file string, err error) error {
	if errors.Is(err, fs.ErrNotExist) && !filepath.IsAbs(file) {
		return &usageError{msg: notThereText(err), err: err}
	}
	return argFileError("read the flow document", err)
}

// notThereText is the refusal of a relative path that is not there.
func notThereText(err error) string {
	wd, _ := os.Getwd()
	return fmt.Sprintf("read the flow document: %v (a path relative to the current directory, %s; the examples are in the examples/ directory of the cardflow repository)", err, wd)
}

// controlAt is the offset of the first control character of src that
// YAML does not allow (all but tab, line feed and carriage return), or -1.
// A binary file is often valid UTF-8 (NUL bytes are).
func controlAt(src []byte) int {
	return bytes.IndexFunc(src, func(r rune) bool {
		return (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f
	})
}

// invalidUTF8At is the offset of the first byte of src that is not valid
// UTF-8.
func invalidUTF8At(src []byte) int {
	for i := 0; i < len(src); {
		r, n := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(src)
}
