// Package schedule fires the ticks of enabled scheduled flows. Every server
// runs a Scheduler; they need no coordination beyond the store: a tick is
// fired by store.AdvanceSchedule, which moves the flow's next tick and
// creates the tick's run in one transaction, keyed by (flow, tick), so
// each tick creates exactly one run whichever servers see it and whenever
// they crash. A tick missed while every server was down runs once, at the
// next start, when it is the latest one due; older missed ticks are
// skipped and counted.
package schedule
