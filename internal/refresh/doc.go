// Package refresh keeps every active seller's access token fresh. A scheduled run asks the store
// for the authorizations that are due (a sparse, sharded due-time index: the cost of a run grows
// with the tokens that are due, not with the table), refreshes them at Login with Amazon with
// bounded concurrency, and writes each new token with a write conditional on the version it read,
// so duplicate or overlapping runs and a re-authorization landing mid-run never lose an update.
//
// An invalid_grant is only believed after it repeats (Policy.ConfirmAttempts over Policy.ConfirmSpan);
// then the seller is marked reauthorization_required, at the end of the run, and only if the run is
// not a mass invalid_grant (Policy.MassRevocationMin, Policy.MassRevocationShare): then it marks
// nobody and reports it (Summary.MassInvalidGrant). An invalid_client that survives the LWA
// client's one refetch of the secret stops the run: every seller would fail, so none is marked.
package refresh
