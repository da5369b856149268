// Command refresh is the scheduled refresh Lambda function: it refreshes the access tokens that
// are due (see docs/refresh.md, "Keeping tokens fresh").
// Its environment is in docs/contract.md.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sellerauth/sellerauth/internal/app"
	"github.com/sellerauth/sellerauth/internal/app/lwaapp"
)

func main() {
	r := app.Start()
	h, err := lwaapp.NewRefresh(r)
	if err != nil {
		r.Fail(err)
	}
	lambda.StartHandlerFunc(h.Handle)
}
