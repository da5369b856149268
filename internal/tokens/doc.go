// Package tokens is the reader other Lambdas use to get a seller's access token; the importable
// package github.com/sellerauth/sellerauth/tokens is its face outside this module.
//
// A Reader reads only the access-token attributes of the token table (so it works under the
// least-privilege reader policy that template.yaml exports), caches each seller's token in memory
// until it comes within the skew of its expiry, and never shares a token across sellers or
// regions. When the stored token is stale (the scheduled refresh is late) a Reader that was given
// LWA credentials refreshes it on demand through the same conditional write the refresh job
// uses, one refresh per seller at a time; without credentials it returns ErrStale.
package tokens
