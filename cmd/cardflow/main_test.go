package main

import (
	"os"
	"testing"
	"time"
)

// TestMain makes the commands that wait for the server poll it often: the
// tests wait for events that have happened (a sign-in, a finished run),
// and each poll interval would add to every such wait.
func TestMain(m *testing.M) {
	pollEvery = 5 * time.Millisecond
	os.Exit(m.Run())
}
