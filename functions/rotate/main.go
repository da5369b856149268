// Command rotate is the rotate-secret Lambda function: it reads the SP-API notifications Amazon
// sends when the LWA client secret is about to expire and when a new one was issued, and stores
// the new secret (see docs/rotation.md, "Client secret rotation").
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sellerauth/sellerauth/internal/app"
	"github.com/sellerauth/sellerauth/internal/app/rotateapp"
)

func main() {
	r := app.Start()
	h, err := rotateapp.NewRotate(r)
	if err != nil {
		r.Fail(err)
	}
	lambda.StartHandlerFunc(h.Handle)
}
