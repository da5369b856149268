package amazon

import "slices"

// Marketplace is one Amazon marketplace.
type Marketplace struct {
	Code          string // "US", "DE", ...
	ID            string // "ATVPDKIKX0DER", ...
	Region        Region
	SellerCentral string // origin, e.g. "https://sellercentral.amazon.com"
	VendorCentral string // origin, "" when none is listed
}

// marketplaces is the only copy of the marketplace table (docs/amazon.md, "Regions and
// origins"), in the document's order so that the landing page lists them the way Amazon does.
// Its origins are where we send partners (consent URLs); what we accept back from Amazon is these
// plus extraSellerCentral (accepted.go). Origins are scheme and host only, lower case, no
// trailing slash: LookupOrigin and ResolveCallbackURI compare against them verbatim.
var marketplaces = []Marketplace{
	{"US", "ATVPDKIKX0DER", RegionNA, "https://sellercentral.amazon.com", "https://vendorcentral.amazon.com"},
	{"CA", "A2EUQ1WTGCTBG2", RegionNA, "https://sellercentral.amazon.ca", "https://vendorcentral.amazon.ca"},
	{"MX", "A1AM78C64UM0Y8", RegionNA, "https://sellercentral.amazon.com.mx", "https://vendorcentral.amazon.com.mx"},
	{"BR", "A2Q3Y263D00KWC", RegionNA, "https://sellercentral.amazon.com.br", "https://vendorcentral.amazon.com.br"},
	{"UK", "A1F83G8C2ARO7P", RegionEU, "https://sellercentral-europe.amazon.com", "https://vendorcentral.amazon.co.uk"},
	{"DE", "A1PA6795UKMFR9", RegionEU, "https://sellercentral-europe.amazon.com", "https://vendorcentral.amazon.de"},
	{"FR", "A13V1IB3VIYZZH", RegionEU, "https://sellercentral-europe.amazon.com", "https://vendorcentral.amazon.fr"},
	{"IT", "APJ6JRA9NG5V4", RegionEU, "https://sellercentral-europe.amazon.com", "https://vendorcentral.amazon.it"},
	{"ES", "A1RKKUPIHCS9HS", RegionEU, "https://sellercentral-europe.amazon.com", "https://vendorcentral.amazon.es"},
	{"NL", "A1805IZSGTT6HS", RegionEU, "https://sellercentral.amazon.nl", "https://vendorcentral.amazon.nl"},
	{"SE", "A2NODRKZP88ZB9", RegionEU, "https://sellercentral.amazon.se", "https://vendorcentral.amazon.se"},
	{"PL", "A1C3SOZRARQ6R3", RegionEU, "https://sellercentral.amazon.pl", "https://vendorcentral.amazon.pl"},
	{"BE", "AMEN7PMS3EDWL", RegionEU, "https://sellercentral.amazon.com.be", "https://vendorcentral.amazon.com.be"},
	{"TR", "A33AVAJ2PDY3EV", RegionEU, "https://sellercentral.amazon.com.tr", "https://vendorcentral.amazon.com.tr"},
	{"IE", "A28R8C7NBKEWEA", RegionEU, "https://sellercentral.amazon.ie", ""},
	{"ZA", "AE08WJ6YKNBMC", RegionEU, "https://sellercentral.amazon.co.za", ""},
	{"EG", "ARBP9OOSHTCHU", RegionEU, "https://sellercentral.amazon.eg", "https://vendorcentral.amazon.me"},
	{"SA", "A17E79C6D8DWNP", RegionEU, "https://sellercentral.amazon.sa", "https://vendorcentral.amazon.me"},
	{"AE", "A2VIGQ35RCS4UG", RegionEU, "https://sellercentral.amazon.ae", "https://vendorcentral.amazon.me"},
	{"IN", "A21TJRUUN4KGV", RegionEU, "https://sellercentral.amazon.in", "https://www.vendorcentral.in"},
	{"JP", "A1VC38T7YXB528", RegionFE, "https://sellercentral.amazon.co.jp", "https://vendorcentral.amazon.co.jp"},
	{"AU", "A39IBJ37TRP1C6", RegionFE, "https://sellercentral.amazon.com.au", "https://vendorcentral.amazon.com.au"},
	{"SG", "A19VAU5U5O7RUS", RegionFE, "https://sellercentral.amazon.sg", "https://vendorcentral.amazon.com.sg"},
}

// Marketplaces returns every marketplace in the table's order. The slice is a fresh copy, so a
// caller that sorts or edits it cannot change what the rest of the program sees.
func Marketplaces() []Marketplace {
	return slices.Clone(marketplaces)
}

// LookupMarketplace finds a marketplace by its code, case-insensitively ("us" or "US"), or by its
// exact marketplace ID ("ATVPDKIKX0DER"). IDs are matched exactly because Amazon treats them as
// opaque strings; codes are forgiving because people type them into URLs.
func LookupMarketplace(codeOrID string) (Marketplace, bool) {
	for _, m := range marketplaces {
		if equalFoldASCII(m.Code, codeOrID) || m.ID == codeOrID {
			return m, true
		}
	}
	return Marketplace{}, false
}

// known reports whether m is exactly a row of the table. Marketplace is a plain struct that
// anyone can build, and its origins end up in a redirect, so code that sends a browser somewhere
// trusts only the table's own values.
func (m Marketplace) known() bool {
	row, ok := LookupMarketplace(m.ID)
	return ok && row == m
}

// Origin returns the Seller Central or Vendor Central origin that a partner of account type t
// signs in to for this marketplace. It fails with ErrNoVendorCentral for a vendor in a
// marketplace without Vendor Central, ErrUnknownAccountType for any other t, and
// ErrUnknownMarketplace for a value that is not a row of the table.
func (m Marketplace) Origin(t AccountType) (string, error) {
	if !m.known() {
		return "", ErrUnknownMarketplace
	}
	switch t {
	case Seller:
		return m.SellerCentral, nil
	case Vendor:
		if m.VendorCentral == "" {
			return "", ErrNoVendorCentral
		}
		return m.VendorCentral, nil
	}
	return "", ErrUnknownAccountType
}

// ParseAccountType reads the account_type query parameter. Empty means Seller, because most
// partners are sellers and the parameter is optional; "seller" and "vendor" are accepted in any
// case; anything else fails with ErrUnknownAccountType. Surrounding spaces are not trimmed: the
// query parsing is strict everywhere.
func ParseAccountType(s string) (AccountType, error) {
	switch {
	case s == "", equalFoldASCII(s, string(Seller)):
		return Seller, nil
	case equalFoldASCII(s, string(Vendor)):
		return Vendor, nil
	}
	return "", ErrUnknownAccountType
}

// equalFoldASCII is strings.EqualFold restricted to ASCII. strings.EqualFold applies Unicode
// folding, under which "ſ" (U+017F) equals "s" and "K" (U+212A) equals "k"; an origin or code
// spelled with those must not match the table.
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

// lowerASCII lowers c if it is an ASCII upper-case letter and returns any other byte unchanged.
func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}
