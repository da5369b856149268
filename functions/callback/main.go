// Command callback is the callback Lambda function: GET /callback, the redirect URI, which consumes
// the state, exchanges the code at Login with Amazon and stores the seller's tokens.
// Its environment is in docs/contract.md.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sellerauth/sellerauth/internal/app"
	"github.com/sellerauth/sellerauth/internal/app/lwaapp"
)

func main() {
	r := app.Start()
	h, err := lwaapp.NewCallback(r)
	if err != nil {
		r.Fail(err)
	}
	lambda.StartHandlerFunc(h.Handle)
}
