// Package flowrun is the flow-run service: it stores, validates, plans and
// queues flow runs, and its workers claim queued runs with a lease (renewed
// while the run executes) and run them with flow.Runner, so that a run
// interrupted by a crash is resumed by whichever server claims it next. It
// adapts the card executor to flow.CardRunner and the store to
// flow.StateStore.
package flowrun
