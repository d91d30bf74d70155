// Package ratebudget paces calls to Okta with one rate budget per org and
// rate-limit bucket shared by every cardflow server on a store:
// Shared implements okta.Limiter over store.RateBudget records, which the
// store updates atomically across processes, so that several servers
// doing bulk work against one org together stay within its limit.
package ratebudget
