// Package outage logs the failures of background loops so that a long
// outage (the database down, its disk full, an org unreachable) stays
// readable: the first failure is logged at once, its repeats are
// summarised every few minutes, the recovery is logged once, and every
// failure is counted for the metrics. It imports no other internal
// package.
package outage
