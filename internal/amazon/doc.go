// Package amazon holds what this project knows about Amazon's side of SP-API authorization: the
// regions, the marketplaces with their Seller Central and Vendor Central origins, the consent URL
// that starts the website workflow, the check that the configured application ID is not the LWA
// client ID, and the validation of the amazon_callback_uri that Amazon hands to our log-in URI.
// It is pure: no network, no AWS, no clock, so every other package can depend on it and its
// tables can be tested exhaustively. The marketplace table mirrors docs/amazon.md and lives in
// exactly one slice literal in marketplace.go; it says where partners are sent. The origins
// accepted back from Amazon (AcceptedOrigins) are the table's plus the Seller Central country
// hosts listed, with their source, in accepted.go.
package amazon
