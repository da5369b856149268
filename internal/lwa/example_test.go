package lwa_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/sellerauth/sellerauth/internal/lwa"
	"github.com/sellerauth/sellerauth/internal/sandbox"
)

func ExampleClient_ExchangeCode() {
	creds := lwa.Static{ClientID: "amzn1.application-oa2-client.example", ClientSecret: "example-secret"}
	sb := sandbox.New(sandbox.Options{ClientID: creds.ClientID, ClientSecret: creds.ClientSecret})
	srv := httptest.NewServer(sb.Handler())
	defer srv.Close()

	client := lwa.New(srv.URL+sandbox.TokenPath, creds) // lwa.DefaultTokenURL in production
	const redirectURI = "https://auth.example.com/callback"
	// What Seller Central sends to the redirect URI as spapi_oauth_code after the seller consents.
	code := sb.IssueCodeFor("A3SELLER0001", redirectURI)

	tok, err := client.ExchangeCode(context.Background(), code, redirectURI)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tok.TokenType, tok.ExpiresIn, strings.HasPrefix(tok.RefreshToken, "Atzr|"))

	// A code works once: a double-submitted callback gets invalid_grant, and is not retried.
	_, err = client.ExchangeCode(context.Background(), code, redirectURI)
	fmt.Println(lwa.IsInvalidGrant(err))
	fmt.Println(err)
	// Output:
	// bearer 1h0m0s true
	// true
	// lwa token request (authorization_code): LWA answered invalid_grant (HTTP 400): The request has an invalid grant parameter : code
}
