package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// cmdVersion prints what this binary was built from: servers sharing a
// database are upgraded together, and this tells which binary is which.
func cmdVersion(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "version", "version")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	info, _ := debug.ReadBuildInfo()
	printVersion(e.stdout, info)
	return nil
}

// printVersion prints "cardflow VERSION, commit REV (TIME), GO OS/ARCH"
// from the build information Go embeds; info may be nil.
func printVersion(w io.Writer, info *debug.BuildInfo) {
	version, commit, when, modified := "(devel)", "", "", false
	if info != nil {
		if v := info.Main.Version; v != "" {
			version = v
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	fmt.Fprintf(w, "cardflow %s", version)
	switch {
	case commit == "":
		fmt.Fprint(w, ", commit unknown (built without version control information, e.g. by go run)")
	default:
		if len(commit) > 12 {
			commit = commit[:12]
		}
		fmt.Fprintf(w, ", commit %s", commit)
		if when != "" {
			fmt.Fprintf(w, " (%s)", when)
		}
		if modified {
			fmt.Fprint(w, " with uncommitted changes")
		}
	}
	fmt.Fprintf(w, ", %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
