package awstest

import "github.com/sellerauth/sellerauth/internal/samtemplate"

// FindTemplate is samtemplate.Find.
//
// Deprecated: use samtemplate.Find. It stays only while cmd/coldstart calls it.
func FindTemplate() (string, error) { return samtemplate.Find() }
