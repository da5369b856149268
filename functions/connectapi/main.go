// Command connectapi is the connect-api Lambda function: the app's backend API behind API
// Gateway's IAM authorizer (POST /connect/sessions, GET /connect/sessions/{session_id},
// GET /connections, DELETE /connections/{selling_partner_id}/{region}). Its environment is in
// docs/contract.md.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sellerauth/sellerauth/internal/app"
	"github.com/sellerauth/sellerauth/internal/app/flowapp"
)

func main() {
	r := app.Start()
	h, err := flowapp.NewConnectAPI(r)
	if err != nil {
		r.Fail(err)
	}
	lambda.StartHandlerFunc(h.Handle)
}
