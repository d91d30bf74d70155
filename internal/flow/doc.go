// Package flow owns cardflow's flow documents (SPEC §3): parsing YAML with
// line and column positions, validation (schema, references to inputs and
// earlier steps, cards, connections and scope preflight), CEL expressions
// inside ${{ }}, plans (dry runs) and the runner, which executes steps with
// bounded for_each concurrency and commits every finished item through a
// StateStore so that an interrupted run resumes without repeating work.
//
// The package talks to cards, connections and storage only through the small
// interfaces it defines (ValidateEnv, CardRunner, StateStore); the app adapts
// the concrete packages to them.
package flow
