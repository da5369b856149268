package sandbox

import (
	"crypto/subtle"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const (
	codeInvalidRequest         = "invalid_request"
	codeInvalidClient          = "invalid_client"
	codeInvalidGrant           = "invalid_grant"
	codeInvalidScope           = "invalid_scope"
	codeUnsupportedGrantType   = "unsupported_grant_type"
	codeServerError            = "server_error"
	codeTemporarilyUnavailable = "temporarily_unavailable"

	jsonContentType = "application/json;charset=UTF-8"
	maxFormBytes    = 64 << 10
)

// descriptions are the default error_description texts, as Amazon words them where known.
var descriptions = map[string]string{
	codeInvalidClient:          "Client authentication failed",
	codeInvalidGrant:           "The request has an invalid grant parameter : code",
	codeInvalidScope:           "An unknown scope was requested",
	codeUnsupportedGrantType:   "Invalid grant_type parameter value",
	codeInvalidRequest:         "The request is missing a required parameter or is otherwise malformed",
	codeServerError:            "Internal server error",
	codeTemporarilyUnavailable: "The service is temporarily unavailable",
}

const revokedDescription = "User may have revoked or didn't grant the permission"

// grantlessScopes are the scopes of the client_credentials grant.
var grantlessScopes = map[string]bool{
	"sellingpartnerapi::notifications":              true,
	"sellingpartnerapi::migration":                  true,
	"sellingpartnerapi::client_credential:rotation": true,
}

// tokenAnswer is the success answer; refresh_token is absent for client_credentials.
type tokenAnswer struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
}

// serveToken is the token endpoint: faults and latency first, then LWA's rules.
func (s *Sandbox) serveToken(w http.ResponseWriter, r *http.Request) {
	// Read the body first: net/http notices a client that hangs up (and cancels r.Context, which
	// ends a delay) only once the body has been read.
	body, readErr := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBytes))
	f, faulted, latency := s.begin()
	if !pause(r.Context(), latency) {
		return
	}
	if faulted && !f.serve(s, w, r) {
		return
	}

	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.fail(w, http.StatusMethodNotAllowed, codeInvalidRequest, "The request method must be POST")
		return
	}
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "application/x-www-form-urlencoded" {
		s.fail(w, http.StatusBadRequest, codeInvalidRequest, "Content-Type must be application/x-www-form-urlencoded")
		return
	}
	if readErr != nil {
		s.fail(w, http.StatusBadRequest, codeInvalidRequest, "The request body could not be read")
		return
	}
	// Only the body counts: parameters in the URL query are ignored, as secrets do not belong there.
	form, err := url.ParseQuery(string(body))
	if err != nil {
		s.fail(w, http.StatusBadRequest, codeInvalidRequest, "The request body is not a valid form")
		return
	}
	for name, values := range form {
		if len(values) > 1 {
			s.fail(w, http.StatusBadRequest, codeInvalidRequest, "A parameter is repeated: "+url.QueryEscape(name))
			return
		}
	}
	grantType := form.Get("grant_type")
	if grantType == "" {
		s.fail(w, http.StatusBadRequest, codeInvalidRequest, "The request is missing the grant_type parameter")
		return
	}

	id, secret, basic := r.BasicAuth()
	if basic {
		if form.Has("client_secret") {
			s.fail(w, http.StatusBadRequest, codeInvalidRequest, "The request uses more than one client authentication method")
			return
		}
		// RFC 6749 2.3.1: both parts are form-encoded before they are joined.
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	if !s.clientOK(id, secret) {
		if basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="LWA"`)
		}
		s.fail(w, http.StatusUnauthorized, codeInvalidClient, descriptions[codeInvalidClient])
		return
	}

	switch grantType {
	case "authorization_code":
		s.exchangeCode(w, form)
	case "refresh_token":
		s.refresh(w, form)
	case "client_credentials":
		s.clientCredentials(w, form)
	default:
		s.fail(w, http.StatusBadRequest, codeUnsupportedGrantType, descriptions[codeUnsupportedGrantType])
	}
}

// clientOK checks the client credentials against the registered ID and the live secrets.
func (s *Sandbox) clientOK(id, secret string) bool {
	if id == "" || secret == "" || s.clientID == "" {
		return false
	}
	ok := subtle.ConstantTimeCompare([]byte(id), []byte(s.clientID)) == 1
	s.mu.Lock()
	defer s.mu.Unlock()
	secretOK := false
	for _, live := range s.secrets {
		if live != "" && subtle.ConstantTimeCompare([]byte(secret), []byte(live)) == 1 {
			secretOK = true
		}
	}
	return ok && secretOK
}

func (s *Sandbox) exchangeCode(w http.ResponseWriter, form url.Values) {
	code := form.Get("code")
	if code == "" {
		s.fail(w, http.StatusBadRequest, codeInvalidRequest, "The request is missing the code parameter")
		return
	}
	s.mu.Lock()
	g, ok := s.codes[code]
	if !ok || g.used || !s.now().Before(g.expiresAt) {
		s.mu.Unlock()
		s.fail(w, http.StatusBadRequest, codeInvalidGrant, descriptions[codeInvalidGrant])
		return
	}
	if g.checkRedirect && form.Get("redirect_uri") != g.redirectURI {
		// The code stays usable: the mismatch is the client's mistake, not a replay.
		s.mu.Unlock()
		s.fail(w, http.StatusBadRequest, codeInvalidGrant, "The request has an invalid grant parameter : redirect_uri")
		return
	}
	g.used = true
	s.codes[code] = g
	refreshToken := newToken("Atzr|")
	s.refreshTokens[refreshToken] = g.sellingPartnerID
	s.latestRefresh[g.sellingPartnerID] = refreshToken
	accessToken := s.issueAccessTokenLocked("Atza|")
	s.stats.CodeExchanges++
	s.mu.Unlock()
	s.answer(w, tokenAnswer{AccessToken: accessToken, RefreshToken: refreshToken})
}

func (s *Sandbox) refresh(w http.ResponseWriter, form url.Values) {
	refreshToken := form.Get("refresh_token")
	if refreshToken == "" {
		s.fail(w, http.StatusBadRequest, codeInvalidRequest, "The request is missing the refresh_token parameter")
		return
	}
	s.mu.Lock()
	if _, ok := s.refreshTokens[refreshToken]; !ok {
		s.mu.Unlock()
		s.fail(w, http.StatusBadRequest, codeInvalidGrant, revokedDescription)
		return
	}
	accessToken := s.issueAccessTokenLocked("Atza|")
	s.stats.Refreshes++
	s.mu.Unlock()
	s.answer(w, tokenAnswer{AccessToken: accessToken, RefreshToken: refreshToken})
}

func (s *Sandbox) clientCredentials(w http.ResponseWriter, form url.Values) {
	scopes := strings.Fields(form.Get("scope"))
	if len(scopes) == 0 {
		s.fail(w, http.StatusBadRequest, codeInvalidScope, descriptions[codeInvalidScope])
		return
	}
	for _, sc := range scopes {
		if !grantlessScopes[sc] {
			s.fail(w, http.StatusBadRequest, codeInvalidScope, descriptions[codeInvalidScope])
			return
		}
	}
	s.mu.Lock()
	accessToken := s.issueAccessTokenLocked("Atc|")
	s.stats.ClientCredentials++
	s.mu.Unlock()
	s.answer(w, tokenAnswer{AccessToken: accessToken})
}

func (s *Sandbox) issueAccessTokenLocked(prefix string) string {
	tok := newToken(prefix)
	s.accessTokens[tok] = s.now().Add(s.accessTokenTTL)
	s.sweepLocked()
	return tok
}

// answer writes a success answer with the sandbox's token lifetime.
func (s *Sandbox) answer(w http.ResponseWriter, a tokenAnswer) {
	a.TokenType = "bearer"
	a.ExpiresIn = int64((s.accessTokenTTL + time.Second - 1) / time.Second) // whole seconds, rounded up
	writeJSON(w, http.StatusOK, a)
}

// fail writes an RFC 6749 error answer and counts it.
func (s *Sandbox) fail(w http.ResponseWriter, status int, code, description string) {
	s.mu.Lock()
	s.stats.Errors[code]++
	s.mu.Unlock()
	writeJSON(w, status, struct {
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description,omitempty"`
	}{code, description})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", jsonContentType)
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
