package amazon

import (
	"maps"
	"slices"
)

// extraSellerCentral lists the Seller Central origins that Amazon serves besides the ones in the
// marketplace table. The table says where we send sellers (one Seller Central origin per
// marketplace, used for consent URLs); this list only widens what we accept back from Amazon, as
// an amazon_callback_uri or a referrer, because sellers reach Seller Central on these hosts too.
//
// Source: Amazon's "Seller Central URLs" page of the SP-API documentation
// (developer-docs.amazon.com/sp-api, "seller-central-urls") lists the origins that send sellers
// to an application; it gives https://sellercentral-europe.amazon.com for UK, DE, FR, IT and ES,
// which stays in the table. Amazon also serves Seller Central for those five marketplaces on the
// country hosts below: sellers use them, integrators build consent URLs on them and those work
// (reported in integrators' issue trackers), and an Appstore-initiated flow hands us an
// amazon_callback_uri on whatever host the seller was using. See docs/amazon.md.
//
// Add a host here only with such a source: every entry is an origin we redirect browsers to.
// Entries are exact origins (https, lower case, default port, no trailing slash); matching is
// exact, never by suffix or wildcard.
var extraSellerCentral = []struct {
	origin string
	region Region
}{
	{"https://sellercentral.amazon.co.uk", RegionEU},
	{"https://sellercentral.amazon.de", RegionEU},
	{"https://sellercentral.amazon.fr", RegionEU},
	{"https://sellercentral.amazon.it", RegionEU},
	{"https://sellercentral.amazon.es", RegionEU},
}

// originUse is what an accepted origin says about the partner who comes from it.
type originUse struct {
	region      Region
	accountType AccountType
}

// accepted is the one list of origins that LookupOrigin and ResolveCallbackURI trust: every
// Seller Central and Vendor Central origin of the marketplace table plus extraSellerCentral,
// keyed by the exact lower-case origin.
var accepted = buildAccepted()

// acceptedSorted is the keys of accepted in sorted order, for AcceptedOrigins.
var acceptedSorted = sortedKeys(accepted)

// buildAccepted merges the table and extraSellerCentral into one map. It panics (at package
// initialization, so every test catches it) if an origin is not in the exact form the
// comparison relies on, or if one origin would map to two regions or account types, because then
// the log-in step could not tell which region a seller is authorizing.
func buildAccepted() map[string]originUse {
	m := map[string]originUse{}
	add := func(o string, r Region, t AccountType) {
		if o == "" {
			return
		}
		if p, err := parseOrigin(o); err != nil || p.String() != o || p.scheme != "https" || !r.Valid() {
			panic("amazon: accepted origin " + o + " is not a lower-case https origin on the default port with a valid region")
		}
		u := originUse{r, t}
		if prev, ok := m[o]; ok && prev != u {
			panic("amazon: origin " + o + " maps to two regions or account types")
		}
		m[o] = u
	}
	for _, mp := range marketplaces {
		add(mp.SellerCentral, mp.Region, Seller)
		add(mp.VendorCentral, mp.Region, Vendor)
	}
	for _, e := range extraSellerCentral {
		add(e.origin, e.region, Seller)
	}
	return m
}

// sortedKeys returns the keys of m in sorted order.
func sortedKeys(m map[string]originUse) []string {
	return slices.Sorted(maps.Keys(m))
}

// AcceptedOrigins returns, sorted, every origin that LookupOrigin and ResolveCallbackURI accept
// as Amazon Seller Central or Vendor Central (without the sandbox override): the origins of the
// marketplace table plus the Seller Central country hosts Amazon also serves (e.g.
// "https://sellercentral.amazon.co.uk"). Each is "https://" and a lower-case host, with no port
// and no trailing slash. The slice is a fresh copy that the caller may change.
func AcceptedOrigins() []string {
	return slices.Clone(acceptedSorted)
}

// LookupOrigin maps a Seller Central or Vendor Central origin (scheme and host, such as
// "https://sellercentral-europe.amazon.com" or "https://sellercentral.amazon.de") to its region
// and account type. The origins are those of AcceptedOrigins. Several marketplaces share an
// origin, but always within one region, which is what lets the login step tell which region a
// seller is authorizing. Scheme and host are compared case-insensitively (ASCII only), as
// browsers do; anything beyond scheme and host (a path, a port, a trailing slash) is no match,
// and there is no suffix or wildcard matching.
func LookupOrigin(origin string) (Region, AccountType, bool) {
	u, ok := accepted[lowerASCIIString(origin)]
	return u.region, u.accountType, ok
}

// lowerASCIIString lowers the ASCII letters of s and leaves every other byte alone. Unlike
// strings.ToLower it does not map "K" (U+212A, Kelvin) to "k", so a host spelled with such
// look-alikes cannot match the list.
func lowerASCIIString(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = lowerASCII(c)
	}
	return string(b)
}
