// Command authorize is the authorize Lambda function: GET /connect, where a seller's browser opens
// the connect session the app created and is sent on to Seller or Vendor Central with a state
// bound to it; and, with ANONYMOUS_AUTHORIZATIONS=true, the landing page (GET /) and
// GET /authorize. Its environment is in docs/contract.md.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sellerauth/sellerauth/internal/app"
	"github.com/sellerauth/sellerauth/internal/app/flowapp"
)

func main() {
	r := app.Start()
	h, err := flowapp.NewAuthorize(r)
	if err != nil {
		r.Fail(err)
	}
	lambda.StartHandlerFunc(h.Handle)
}
