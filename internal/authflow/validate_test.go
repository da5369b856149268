package authflow

import (
	"regexp"
	"strings"
	"testing"
)

// TestValidatorsMatchTheirPatterns checks the hand-written validators against the regular
// expressions they replace (kept here, out of the functions' cold start).
func TestValidatorsMatchTheirPatterns(t *testing.T) {
	spid := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	opaque := regexp.MustCompile(`^[A-Za-z0-9._~+/=|-]{1,512}$`)
	alphabet := "aZ09._-~+/=|# \x00é"
	inputs := []string{"", "A", ".A", "A.", "Atza|x", strings.Repeat("A", 64), strings.Repeat("A", 65),
		strings.Repeat("a", 512), strings.Repeat("a", 513), "a\nb", "a b", "é"}
	for i := range 3000 {
		var b strings.Builder
		for j := range i % 70 {
			b.WriteByte(alphabet[(i*7+j*13)%len(alphabet)])
		}
		inputs = append(inputs, b.String())
	}
	for _, in := range inputs {
		if got, want := validSellingPartnerID(in), spid.MatchString(in); got != want {
			t.Errorf("validSellingPartnerID(%q) = %v, the pattern says %v", in, got, want)
		}
		if got, want := validOpaque(in), opaque.MatchString(in); got != want {
			t.Errorf("validOpaque(%q) = %v, the pattern says %v", in, got, want)
		}
	}
}
