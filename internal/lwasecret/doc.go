// Package lwasecret reads and writes the SP-API app's LWA client credentials in their Secrets
// Manager secret. A Source supplies them to the token client: nothing is fetched at start-up, so
// a function's init never touches the network; the first caller fetches, concurrent first callers
// share that one fetch, and the value then lives in memory for the life of the Lambda container.
// When LWA rejects the credentials after the operator rotated them, Refetch reads the secret
// again, once for all the callers that saw the old value. A Writer, used only by the rotation
// function, stores a new client secret through a compare-and-swap of the secret's current
// version. The secret's value never appears in an error.
package lwasecret
