// Command login is the login Lambda function: GET /login, Amazon's log-in URI step of the website
// and Appstore-initiated flows.
// Its environment is in docs/contract.md.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sellerauth/sellerauth/internal/app"
	"github.com/sellerauth/sellerauth/internal/app/flowapp"
)

func main() {
	r := app.Start()
	h, err := flowapp.NewLogin(r)
	if err != nil {
		r.Fail(err)
	}
	lambda.StartHandlerFunc(h.Handle)
}
