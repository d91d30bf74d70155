// Package flowrun is the flow-run service: it stores, validates, plans and
// queues flow runs, and its workers claim queued runs with a lease (renewed
// while the run executes) and run them with flow.Runner, so that a run
// interrupted by a crash is resumed by whichever server claims it next. It
// adapts the card executor to flow.CardRunner and the store to
// flow.StateStore.
//
// Start validates the stored flow's latest version again (cards,
// connections, scope preflight), converts the inputs and stores a queued
// run with that version's document and number; storing a flow adds a
// version (store.PutFlow), and Rerun copies the original run's document,
// version and trigger. TriggeredRun builds the run a schedule tick or an
// Okta event starts; its worker evaluates on.inputs, with trigger in scope,
// when it first executes it. Enable records when a flow was enabled, so
// that it is started by no event published before.
//
// A worker claims a run (store.ClaimFlowRun) and, when a dead server held
// it, first ends the card runs that server left running as interrupted
// (store.InterruptRuns). Each item's finished card run, its audit event and
// the item are stored in one transaction (store.FinishFlowItem, through
// Cards); the run's outcome, its flow.run audit event and its
// flow_run.failed or flow_run.recovered notification in another
// (store.FinishFlowRun). Every write of the run's card runs, items, steps
// and outcome is fenced by this server's claim on it: a server paused past
// its lease, whose run another server has claimed since, has its next
// write refused (store.ErrLeaseLost) and stops the run at once, calling
// no further card and queuing no notification. A run stopped because the
// store was unavailable (store.ErrUnavailable: a dropped database session)
// is not failed: its lease lapses and it is resumed as after a crash. A
// run stopped because this server cannot go on with it (flow.ErrHandBack: Cards.HandBack says
// its keyring is behind the database's) is handed back at once, its lease
// released, for a server that can. Cancel ends a queued
// run at once or records the request on the run (store.CancelFlowRun):
// the executing server learns it at once when it is the one asked,
// otherwise at its next lease renewal, and its runner starts no further
// item (flow.Runner.Stopped) and ends the run canceled; a server that
// claims a run carrying the request never executes it.
//
// A run an Okta event started that its connection stopped (it needs
// reauthorization, or the org refuses it) is stored failed with the
// connection it waits for (store.FlowRun.RerunWhenActive); RerunWaiting,
// which the event intake's dispatch rounds call, reruns its failed items
// once the connection is active again, as cardflow, once among all servers
// (store.ClaimRerun), and skips it, saying why, when its flow was disabled
// or deleted meanwhile.
package flowrun
