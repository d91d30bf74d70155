// Package flow owns cardflow's flow documents: parsing YAML with
// line and column positions, validation (schema, references to inputs and
// earlier steps, cards, connections and scope preflight, the keys
// expressions select from cards' outputs against each card's Shape), CEL expressions
// inside ${{ }}, plans (dry runs) and the runner, which executes steps with
// bounded for_each concurrency and commits every finished item through a
// StateStore so that an interrupted run resumes without repeating work.
//
// Expressions see inputs, steps.<id>.output (steps.<id>.outputs for a
// for_each step: the outputs of its succeeded items, in item order) and, in
// a for_each step's input and if, item and index. Values are JSON-like:
// numbers from inputs and card outputs are doubles. Each expression is
// compiled once, when the document is parsed, and every evaluation has a
// cost limit; all the evaluations of one plan or run share a budget
// (RunCostBudget). Validation type-checks them against the declared inputs
// and the card outputs whose shapes are known.
//
// An item's card call is a Call (the Actor it runs for, an OnWait callback
// for rate budget waits, the device's display name when a step's output
// gave it) and returns a CardResult naming the card run (RunRef). A
// for_each item calls Okta only once the previous item of its worker is
// saved (Call.Ready), so a crash leaves no more items finished but unsaved
// than calls in flight; items that call no card (skipped by their if, or
// failed before their card ran) change nothing, and each worker saves them
// up to 256 at a time. The runner starts no further item once
// Runner.Stopped says the run was asked to stop.
//
// The package talks to cards, connections and storage only through the
// small interfaces it defines (ValidateEnv, CardRunner, StateStore); the app
// adapts the concrete packages to them.
package flow
