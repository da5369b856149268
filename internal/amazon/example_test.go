package amazon_test

import (
	"fmt"

	"github.com/sellerauth/sellerauth/internal/amazon"
)

func ExampleConsent_URL() {
	consent := amazon.Consent{
		ApplicationID: "amzn1.sp.solution.1234abcd-0000-1111-2222-333344445555",
		RedirectURI:   "https://auth.example.com/callback",
		Draft:         true, // the app is not published yet: Amazon needs version=beta
	}
	de, _ := amazon.LookupMarketplace("DE")
	u, err := consent.URL(de, amazon.Seller, "opaque-state")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(u)

	ie, _ := amazon.LookupMarketplace("A28R8C7NBKEWEA")
	_, err = consent.URL(ie, amazon.Vendor, "opaque-state")
	fmt.Println(err)
	// Output:
	// https://sellercentral-europe.amazon.com/apps/authorize/consent?application_id=amzn1.sp.solution.1234abcd-0000-1111-2222-333344445555&state=opaque-state&redirect_uri=https%3A%2F%2Fauth.example.com%2Fcallback&version=beta
	// consent URL: amazon: marketplace has no Vendor Central
}
