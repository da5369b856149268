package sigv4auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Errors of Verify. Every failure wraps exactly one of them, with a detail that names what did
// not match but never holds a secret, a signature or a session token. All but ErrMisconfigured
// are the caller's fault, which API Gateway answers with 403 Forbidden.
var (
	// ErrMissingAuth means the request carries no Authorization header.
	ErrMissingAuth = errors.New("sigv4auth: missing authentication token")
	// ErrMalformedAuth means the Authorization header, X-Amz-Date or the query string cannot be
	// parsed, or uses another algorithm than AWS4-HMAC-SHA256.
	ErrMalformedAuth = errors.New("sigv4auth: malformed authorization")
	// ErrScope means the credential scope names another date, region or service than the
	// request and the verifier.
	ErrScope = errors.New("sigv4auth: credential scope does not match")
	// ErrUnsignedHeader means a header that must be signed (host, x-amz-date and, when sent,
	// x-amz-security-token) is missing from SignedHeaders.
	ErrUnsignedHeader = errors.New("sigv4auth: required header is not signed")
	// ErrExpired means X-Amz-Date is further from now than the verifier's MaxSkew.
	ErrExpired = errors.New("sigv4auth: signature expired or not yet current")
	// ErrUnknownKey means Lookup does not know the access key ID.
	ErrUnknownKey = errors.New("sigv4auth: the security token included in the request is invalid")
	// ErrBadSignature means the signature does not match the request, or x-amz-content-sha256
	// does not match the body.
	ErrBadSignature = errors.New("sigv4auth: the request signature does not match")
	// ErrMisconfigured means the Verifier itself is incomplete (no Lookup or no Region); it is
	// the operator's fault, not the caller's.
	ErrMisconfigured = errors.New("sigv4auth: verifier is misconfigured")
)

// DefaultMaxSkew is how far X-Amz-Date may be from now when Verifier.MaxSkew is zero: the five
// minutes AWS allows.
const DefaultMaxSkew = 5 * time.Minute

// DefaultService is the signing name of API Gateway, used when Verifier.Service is empty.
const DefaultService = "execute-api"

const (
	algorithm  = "AWS4-HMAC-SHA256"
	terminator = "aws4_request"
	amzDateFmt = "20060102T150405Z"
)

// Identity is who signed a request: what API Gateway puts into requestContext.authorizer.iam
// for an IAM-authorized route. Lookup supplies everything but AccessKeyID, which Verify fills in
// from the request when Lookup leaves it empty.
type Identity struct {
	// AccessKeyID is the access key the request was signed with.
	AccessKeyID string
	// AccountID is the AWS account the signer belongs to.
	AccountID string
	// UserARN is the ARN of the IAM user or assumed role that signed.
	UserARN string
	// UserID is the unique ID of the IAM user, or of the role and session.
	UserID string
	// CallerID is the caller's ID as API Gateway reports it (the user ID, or role:session).
	CallerID string
	// PrincipalOrgID is the AWS Organizations ID of the signer's account, if any.
	PrincipalOrgID string
}

// IAM returns the identity as the payload 2.0 event carries it, so that the dev gateway can
// hand a Lambda function the same requestContext.authorizer.iam as API Gateway does.
func (id Identity) IAM() *events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription {
	return &events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription{
		AccessKey:      id.AccessKeyID,
		AccountID:      id.AccountID,
		CallerID:       id.CallerID,
		PrincipalOrgID: id.PrincipalOrgID,
		UserARN:        id.UserARN,
		UserID:         id.UserID,
	}
}

// Verifier checks SigV4 signatures of requests to one service in one region. Its zero value is
// not usable: Lookup and Region are required. A Verifier is safe for concurrent use as long as
// Lookup and Now are.
type Verifier struct {
	// Lookup returns the secret access key and the identity behind an access key ID, with
	// ok=false for keys it does not know.
	Lookup func(accessKeyID string) (secret string, id Identity, ok bool)
	// Service is the signing name requests must be scoped to; empty means DefaultService.
	Service string
	// Region is the region requests must be scoped to, such as eu-west-1.
	Region string
	// Now is the clock X-Amz-Date is compared with; nil means time.Now.
	Now func() time.Time
	// MaxSkew is how far X-Amz-Date may be from Now; zero means DefaultMaxSkew.
	MaxSkew time.Duration
}

// authorization is a parsed Authorization header.
type authorization struct {
	accessKeyID   string
	date          string // yyyymmdd
	region        string
	service       string
	signedHeaders []string
	signature     string
}

// Verify checks the SigV4 signature of r, whose body (already read by the caller, since r.Body
// can be read only once) is body, and returns who signed it. It checks what API Gateway checks:
// the credential scope (date, region, service), that X-Amz-Date is within MaxSkew of now, that
// host and x-amz-date are signed, that x-amz-content-sha256, when sent, is the hash of body, and
// finally the signature over the method, path, query, signed headers and body.
func (v *Verifier) Verify(r *http.Request, body []byte) (Identity, error) {
	if v.Lookup == nil || v.Region == "" {
		return Identity{}, fmt.Errorf("%w: Lookup and Region are required", ErrMisconfigured)
	}
	a, err := authorizationOf(r)
	if err != nil {
		return Identity{}, err
	}
	amzDate, signedAt, err := amzDateOf(r)
	if err != nil {
		return Identity{}, err
	}
	if err := v.checkScope(a, amzDate); err != nil {
		return Identity{}, err
	}
	if err := checkSignedHeaders(r, a); err != nil {
		return Identity{}, err
	}
	if err := v.checkSkew(signedAt); err != nil {
		return Identity{}, err
	}

	sum := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(sum[:])
	// API Gateway signs the body itself; a caller that also sends the hash as a header must send
	// the right one, or a proxy that trusts the header could be fooled.
	if hs := r.Header.Values("X-Amz-Content-Sha256"); len(hs) > 0 && (len(hs) > 1 || hs[0] != payloadHash) {
		return Identity{}, fmt.Errorf("%w: x-amz-content-sha256 is not the hash of the body", ErrBadSignature)
	}

	canonical, err := canonicalRequest(r, a.signedHeaders, payloadHash, len(body))
	if err != nil {
		return Identity{}, err
	}

	secret, id, ok := v.Lookup(a.accessKeyID)
	if !ok {
		return Identity{}, ErrUnknownKey
	}
	want := signature(secret, a, amzDate, canonical)
	// Constant time, so that the time to refuse does not tell how much of a forged signature
	// was right.
	if !hmac.Equal([]byte(want), []byte(a.signature)) {
		return Identity{}, ErrBadSignature
	}
	if id.AccessKeyID == "" {
		id.AccessKeyID = a.accessKeyID
	}
	return id, nil
}

// authorizationOf parses r's one Authorization header.
func authorizationOf(r *http.Request) (authorization, error) {
	headers := r.Header.Values("Authorization")
	if len(headers) == 0 {
		return authorization{}, ErrMissingAuth
	}
	if len(headers) > 1 {
		return authorization{}, fmt.Errorf("%w: more than one Authorization header", ErrMalformedAuth)
	}
	return parseAuthorization(headers[0])
}

// amzDateOf returns r's one X-Amz-Date header and the time it names.
func amzDateOf(r *http.Request) (string, time.Time, error) {
	dates := r.Header.Values("X-Amz-Date")
	if len(dates) != 1 {
		return "", time.Time{}, fmt.Errorf("%w: exactly one X-Amz-Date header is required", ErrMalformedAuth)
	}
	signedAt, err := time.Parse(amzDateFmt, dates[0])
	if err != nil {
		return "", time.Time{}, fmt.Errorf("%w: X-Amz-Date is not in the form 20060102T150405Z", ErrMalformedAuth)
	}
	return dates[0], signedAt, nil
}

// checkScope checks that the credential scope names the request's date and the verifier's region
// and service.
func (v *Verifier) checkScope(a authorization, amzDate string) error {
	service := v.Service
	if service == "" {
		service = DefaultService
	}
	switch {
	case a.date != amzDate[:8]:
		return fmt.Errorf("%w: date %s is not the date of X-Amz-Date", ErrScope, a.date)
	case a.region != v.Region:
		return fmt.Errorf("%w: region %q, want %q", ErrScope, a.region, v.Region)
	case a.service != service:
		return fmt.Errorf("%w: service %q, want %q", ErrScope, a.service, service)
	}
	return nil
}

// checkSignedHeaders checks that the headers that must be signed are.
func checkSignedHeaders(r *http.Request, a authorization) error {
	// host binds the signature to this API and x-amz-date to its time; a signature without them
	// could be replayed elsewhere or forever. A session token that is sent but not signed could
	// be swapped for another one.
	required := []string{"host", "x-amz-date"}
	if len(r.Header.Values("X-Amz-Security-Token")) > 0 {
		required = append(required, "x-amz-security-token")
	}
	for _, h := range required {
		if !slices.Contains(a.signedHeaders, h) {
			return fmt.Errorf("%w: %s", ErrUnsignedHeader, h)
		}
	}
	return nil
}

// checkSkew checks that signedAt is within MaxSkew of now.
func (v *Verifier) checkSkew(signedAt time.Time) error {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	skew := v.MaxSkew
	if skew <= 0 {
		skew = DefaultMaxSkew
	}
	if d := now().Sub(signedAt); d > skew || d < -skew {
		return fmt.Errorf("%w: signed at %s, more than %s from now", ErrExpired, signedAt.Format(time.RFC3339), skew)
	}
	return nil
}

// signature is the hex signature of the canonical request, signed at amzDate with secret in a's
// scope.
func signature(secret string, a authorization, amzDate, canonical string) string {
	scope := a.date + "/" + a.region + "/" + a.service + "/" + terminator
	canonicalSum := sha256.Sum256([]byte(canonical))
	stringToSign := algorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(canonicalSum[:])
	key := signingKey(secret, a.date, a.region, a.service)
	return hex.EncodeToString(hmacSHA256(key, []byte(stringToSign)))
}

// parseAuthorization parses "AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request,
// SignedHeaders=a;b, Signature=hex". Components may come in any order, with or without spaces
// after the commas, as AWS accepts.
func parseAuthorization(h string) (authorization, error) {
	alg, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || alg != algorithm {
		return authorization{}, fmt.Errorf("%w: the algorithm must be %s", ErrMalformedAuth, algorithm)
	}
	fields := map[string]string{}
	for part := range strings.SplitSeq(rest, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return authorization{}, fmt.Errorf("%w: component without '='", ErrMalformedAuth)
		}
		if _, dup := fields[k]; dup {
			return authorization{}, fmt.Errorf("%w: duplicate %s", ErrMalformedAuth, k)
		}
		fields[k] = val
	}
	for _, k := range []string{"Credential", "SignedHeaders", "Signature"} {
		if fields[k] == "" {
			return authorization{}, fmt.Errorf("%w: %s is missing", ErrMalformedAuth, k)
		}
	}
	if len(fields) != 3 {
		return authorization{}, fmt.Errorf("%w: unexpected components", ErrMalformedAuth)
	}

	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || scope[0] == "" || len(scope[1]) != 8 {
		return authorization{}, fmt.Errorf("%w: Credential is not AKID/date/region/service/aws4_request", ErrMalformedAuth)
	}
	if scope[4] != terminator {
		return authorization{}, fmt.Errorf("%w: the scope must end in %s", ErrScope, terminator)
	}

	// The signer sends the header names lowercase and sorted; anything else is not a list a
	// canonical request could have been built from.
	signed := strings.Split(fields["SignedHeaders"], ";")
	for i, name := range signed {
		if name == "" || name != strings.ToLower(name) || (i > 0 && signed[i-1] >= name) {
			return authorization{}, fmt.Errorf("%w: SignedHeaders must be lowercase, sorted and unique", ErrMalformedAuth)
		}
	}

	sig := fields["Signature"]
	if len(sig) != sha256.Size*2 || strings.Trim(sig, "0123456789abcdef") != "" {
		return authorization{}, fmt.Errorf("%w: Signature must be 64 lowercase hex digits", ErrMalformedAuth)
	}

	return authorization{
		accessKeyID:   scope[0],
		date:          scope[1],
		region:        scope[2],
		service:       scope[3],
		signedHeaders: signed,
		signature:     sig,
	}, nil
}

// canonicalRequest builds the SigV4 canonical request of r over exactly the signed headers:
//
//	method \n canonical URI \n canonical query \n canonical headers \n signed headers \n payload hash
func canonicalRequest(r *http.Request, signed []string, payloadHash string, bodyLen int) (string, error) {
	query, err := canonicalQuery(r.URL.RawQuery)
	if err != nil {
		return "", err
	}

	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(r.URL))
	b.WriteByte('\n')
	b.WriteString(query)
	b.WriteByte('\n')
	for _, name := range signed {
		values := headerValues(r, name, bodyLen)
		if len(values) == 0 {
			// The signer never lists a header it did not send: the header was removed on the way.
			return "", fmt.Errorf("%w: signed header %s is absent", ErrBadSignature, name)
		}
		b.WriteString(name)
		b.WriteByte(':')
		for i, val := range values {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strings.TrimSpace(collapseSpaces(val)))
		}
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String(), nil
}

// canonicalURI is the request path as sent (still escaped) and URI-encoded once more, which is
// what SigV4 prescribes for every service but S3, and what the SDK signer does by default. The
// path is not normalized (no dot-segment removal), like the SDK does not either.
func canonicalURI(u *url.URL) string {
	path := u.EscapedPath()
	if u.Opaque != "" {
		// An opaque "//host/path" is how SDK users pin the escaping of a path; honour it the
		// same way the signer does.
		path = strings.TrimPrefix(u.Opaque, "//")
		if i := strings.IndexByte(path, '/'); i >= 0 {
			path = path[i:]
		} else {
			path = ""
		}
	}
	if path == "" {
		path = "/"
	}
	return uriEncode(path, false)
}

// canonicalQuery decodes the raw query and encodes it again the SigV4 way: names and values
// URI-encoded (a space is %20, whether sent as + or %20), sorted by name, then by value. A query
// that does not parse is refused rather than partly ignored: the ignored part would be unsigned.
func canonicalQuery(raw string) (string, error) {
	values, err := url.ParseQuery(raw)
	if err != nil {
		return "", fmt.Errorf("%w: the query string does not parse", ErrMalformedAuth)
	}
	type pair struct{ k, v string }
	var pairs []pair
	for k, vs := range values {
		for _, val := range vs {
			pairs = append(pairs, pair{uriEncode(k, true), uriEncode(val, true)})
		}
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String(), nil
}

// headerValues returns the values of the header name (lowercase) in the order they were sent.
// Host and Content-Length are not in r.Header on a server; they come from their fields.
func headerValues(r *http.Request, name string, bodyLen int) []string {
	switch name {
	case "host":
		if r.Host != "" {
			return []string{r.Host}
		}
		if r.URL.Host != "" {
			return []string{r.URL.Host}
		}
		return nil
	case "content-length":
		if vs := r.Header.Values("Content-Length"); len(vs) > 0 {
			return vs
		}
		if r.ContentLength > 0 {
			return []string{strconv.FormatInt(r.ContentLength, 10)}
		}
		if bodyLen > 0 {
			return []string{strconv.Itoa(bodyLen)}
		}
		return nil
	}
	// Keys set on the map directly may not be in canonical form; visit them in a fixed order so
	// that the result does not depend on map iteration.
	var keys []string
	for k := range r.Header {
		if strings.EqualFold(k, name) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var values []string
	for _, k := range keys {
		values = append(values, r.Header[k]...)
	}
	return values
}

// collapseSpaces replaces each run of spaces with one space, as the canonical form of a header
// value requires.
func collapseSpaces(s string) string {
	if !strings.Contains(s, "  ") {
		return s
	}
	var b strings.Builder
	prevSpace := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' && prevSpace {
			continue
		}
		prevSpace = c == ' '
		b.WriteByte(c)
	}
	return b.String()
}

// uriEncode percent-encodes every byte but the unreserved characters (A-Z a-z 0-9 - _ . ~),
// with uppercase hex digits, as SigV4 requires; the slash is kept when encodeSlash is false.
func uriEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '~', c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&0x0f])
		}
	}
	return b.String()
}

// signingKey derives the SigV4 signing key: an HMAC chain over the date, region, service and
// terminator, keyed with "AWS4" and the secret.
func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), []byte(date))
	k = hmacSHA256(k, []byte(region))
	k = hmacSHA256(k, []byte(service))
	return hmacSHA256(k, []byte(terminator))
}

func hmacSHA256(key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}
