package connect_test

import (
	"context"
	"fmt"
	"log"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/sellerauth/sellerauth/connect"
)

// Example shows the whole integration of an app's backend: start a session for one of its
// users, send the user to the connect URL, read the outcome, list the user's connections and
// disconnect one. It runs against an in-memory stand-in for the deployed API.
func Example() {
	api := startFakeAPI() // stands in for the stack; use its ApiUrl output instead
	defer api.Close()

	// In production: cfg, err := config.LoadDefaultConfig(ctx), with an IAM identity that has
	// the stack's ConnectApiPolicyArn policy.
	cfg := aws.Config{
		Region:      "eu-west-1",
		Credentials: credentials.NewStaticCredentialsProvider(fakeKeyID, fakeSecret, ""),
	}
	client := connect.New(cfg, api.URL)
	ctx := context.Background()

	// 1. Start an authorization for user-42.
	s, err := client.CreateSession(ctx, connect.SessionInput{EndUserID: "user-42", Marketplace: "DE"})
	if err != nil {
		log.Fatal(err)
	}

	// 2. Redirect the user's browser to s.ConnectURL. Here the fake seller opens it and consents.
	resp, err := http.Get(s.ConnectURL)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()

	// 3. When the browser comes back to your return URL (or by polling), read the outcome.
	st, err := client.Session(ctx, s.SessionID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.Status, st.SellingPartnerID, st.Region)

	// 4. List the user's connections.
	conns, err := client.Connections(ctx, "user-42")
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range conns {
		fmt.Println(c.SellingPartnerID, c.Region, c.Status, c.ReauthorizeBy.Format("2006-01-02"))
	}

	// 5. Disconnect the seller, only if it is still user-42's.
	seller := conns[0]
	if err := client.Disconnect(ctx, seller.SellingPartnerID, seller.Region, connect.WithEndUser("user-42")); err != nil {
		log.Fatal(err)
	}
	conns, _ = client.Connections(ctx, "user-42")
	fmt.Println(len(conns), "connections left")

	// Output:
	// connected A1EXAMPLE eu
	// A1EXAMPLE eu active 2027-12-02
	// 0 connections left
}
