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
	fs := newFlagSet(e, "version", "version [--json]")
	asJSON := fs.Bool("json", false, "print JSON for scripts instead of text")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	info, _ := debug.ReadBuildInfo()
	v := readBuild(info)
	if *asJSON {
		return printJSON(e.stdout, v)
	}
	printVersion(e.stdout, v)
	return nil
}

// build is what a binary was built from, as version --json prints it.
type build struct {
	Version string `json:"version"` // the module's version, "(devel)" when none
	// Commit is the full revision, empty when the build had no version
	// control information (go run); Time is its commit time.
	Commit   string `json:"commit,omitempty"`
	Time     string `json:"time,omitempty"`
	Modified bool   `json:"modified"` // built with uncommitted changes
	Go       string `json:"go"`
	OS       string `json:"os"`
	Arch     string `json:"arch"`
}

// readBuild reads the build information Go embeds; info may be nil.
func readBuild(info *debug.BuildInfo) build {
	b := build{Version: "(devel)", Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	if info == nil {
		return b
	}
	if v := info.Main.Version; v != "" {
		b.Version = v
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Commit = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// printVersion prints "cardflow VERSION, commit REV (TIME), GO OS/ARCH".
func printVersion(w io.Writer, b build) {
	fmt.Fprintf(w, "cardflow %s", b.Version)
	switch {
	case b.Commit == "":
		fmt.Fprint(w, ", commit unknown (built without version control information, e.g. by go run)")
	default:
		commit := b.Commit
		if len(commit) > 12 {
			commit = commit[:12]
		}
		fmt.Fprintf(w, ", commit %s", commit)
		if b.Time != "" {
			fmt.Fprintf(w, " (%s)", b.Time)
		}
		if b.Modified {
			fmt.Fprint(w, " with uncommitted changes")
		}
	}
	fmt.Fprintf(w, ", %s %s/%s\n", b.Go, b.OS, b.Arch)
}
