// Command authorize is the authorize Lambda function: the landing page (GET /) and GET /authorize,
// which issues a state bound to the browser and sends the seller to Seller or Vendor Central.
// Its environment is in DESIGN.md and README.md.
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
