// Package credentials supplies the SP-API app's LWA client credentials from a Secrets Manager
// secret. Nothing is fetched at start-up, so a function's init never touches the network; the
// first caller fetches, concurrent first callers share that one fetch, and the value then lives
// in memory for the life of the Lambda container. When LWA rejects the credentials after the
// operator rotated them, Refetch reads the secret again, once for all the callers that saw the old
// value. The secret's value never appears in an error.
package credentials
