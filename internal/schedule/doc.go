// Package schedule fires the ticks of enabled scheduled flows. Every server
// runs a Scheduler; they need no coordination beyond the store: a tick is
// fired by store.AdvanceSchedule, which moves the flow's next tick and
// creates the tick's run in one transaction, keyed by (flow, tick), so
// each tick creates exactly one run whichever servers see it and whenever
// they crash. A tick missed while every server was down runs once, at the
// next start, when it is the latest one due; older missed ticks are
// skipped and counted.
//
// A Scheduler asks the store only for the enabled flows whose next_run_at
// has come (an index, so its cost does not grow with idle flows or past
// runs), and computes a flow's ticks from its on.schedule (cron or every,
// in its timezone). The run it creates is built by
// flowrun.Service.TriggeredRun and is from then on an ordinary queued flow
// run.
package schedule
