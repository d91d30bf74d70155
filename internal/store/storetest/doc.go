// Package storetest is the conformance suite of store.Store: every backend
// runs Run from its own tests, so that all backends keep the same
// contract (errors, uniqueness, ordering, single use, exclusive leases and
// claims under concurrency, across several handles on one database).
package storetest
