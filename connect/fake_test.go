package connect_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/sellerauth/sellerauth/internal/sigv4auth"
)

// The credentials the fake API accepts.
const (
	fakeKeyID  = "AKIDEXAMPLE"
	fakeSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	fakeRegion = "eu-west-1"
	fakeSeller = "A1EXAMPLE"
)

// fakeAPI stands in for the deployed connect API: it verifies SigV4 signatures as API
// Gateway's IAM authorizer does (with sigv4auth) and keeps sessions and connections in memory.
// The seller's side of the flow is one unsigned GET of the connect URL, which connects the
// session at once.
type fakeAPI struct {
	*httptest.Server
	verifier *sigv4auth.Verifier

	mu          sync.Mutex
	sessions    map[string]*fakeSession
	byToken     map[string]string // connect token → session ID
	connections map[string]fakeConnection
	last        fakeRequest
	// answer, when set, replaces the API's answer to the next signed request.
	answer func(w http.ResponseWriter)
}

type fakeSession struct {
	input  map[string]string
	status string
	err    string
}

type fakeConnection struct {
	endUserID string
	conn      map[string]any
}

// fakeRequest is what the fake saw of the last signed request.
type fakeRequest struct {
	method, path, rawPath, rawQuery, contentType, accept string
	body                                                 []byte
	identity                                             sigv4auth.Identity
}

func startFakeAPI() *fakeAPI {
	return startFakeAPIWithClock(nil)
}

// startFakeAPIWithClock starts the fake with its verifier on clock (nil for the real time).
func startFakeAPIWithClock(clock func() time.Time) *fakeAPI {
	f := &fakeAPI{
		sessions:    map[string]*fakeSession{},
		byToken:     map[string]string{},
		connections: map[string]fakeConnection{},
	}
	f.verifier = &sigv4auth.Verifier{
		Lookup: func(id string) (string, sigv4auth.Identity, bool) {
			if id != fakeKeyID {
				return "", sigv4auth.Identity{}, false
			}
			return fakeSecret, sigv4auth.Identity{AccountID: "123456789012", UserARN: "arn:aws:iam::123456789012:user/backend"}, true
		},
		Region: fakeRegion,
		Now:    clock,
	}

	api := http.NewServeMux()
	api.HandleFunc("POST /connect/sessions", f.createSession)
	api.HandleFunc("GET /connect/sessions/{id}", f.getSession)
	api.HandleFunc("GET /connections", f.listConnections)
	api.HandleFunc("DELETE /connections/{seller}/{region}", f.disconnect)

	root := http.NewServeMux()
	root.HandleFunc("GET /connect", f.sellerConsents) // the browser's page: not IAM-protected
	root.Handle("/", f.iamAuthorizer(api))
	f.Server = httptest.NewServer(root)
	return f
}

// iamAuthorizer refuses what API Gateway's AWS_IAM authorizer refuses, with its 403 answer.
func (f *fakeAPI) iamAuthorizer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "read body", http.StatusBadRequest)
			return
		}
		id, err := f.verifier.Verify(r, body)
		if err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Apigw-Requestid", "req-403")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"message":"Forbidden"}`)
			return
		}
		f.mu.Lock()
		f.last = fakeRequest{r.Method, r.URL.Path, r.URL.EscapedPath(), r.URL.RawQuery,
			r.Header.Get("Content-Type"), r.Header.Get("Accept"), body, id}
		answer := f.answer
		f.answer = nil
		f.mu.Unlock()
		if answer != nil {
			answer(w)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// lastRequest returns what the fake saw of the last signed request.
func (f *fakeAPI) lastRequest() fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

// answerNext makes the fake answer the next signed request with status and body.
func (f *fakeAPI) answerNext(status int, contentType, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answer = func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, message, field string) {
	writeJSON(w, status, map[string]string{"error": code, "message": message, "field": field})
}

func (f *fakeAPI) createSession(w http.ResponseWriter, r *http.Request) {
	var in map[string]string
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_json", "The body is not a JSON object.", "")
		return
	}
	if in["end_user_id"] == "" {
		writeError(w, http.StatusUnprocessableEntity, "invalid_request", "end_user_id is required.", "end_user_id")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	n := len(f.sessions) + 1
	id, token := fmt.Sprintf("cs_%d", n), fmt.Sprintf("tok_%d", n)
	f.sessions[id] = &fakeSession{input: in, status: "pending"}
	f.byToken[token] = id
	writeJSON(w, http.StatusCreated, map[string]any{
		"session_id":  id,
		"connect_url": f.URL + "/connect?session=" + token,
		"expires_at":  time.Now().Add(time.Hour).UTC().Format(time.RFC3339),
	})
}

func (f *fakeAPI) getSession(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := r.PathValue("id")
	s, ok := f.sessions[id]
	if !ok {
		writeError(w, http.StatusNotFound, "session_not_found", "There is no such session.", "")
		return
	}
	out := map[string]any{
		"session_id":  id,
		"end_user_id": s.input["end_user_id"],
		"status":      s.status,
		"expires_at":  time.Now().Add(time.Hour).UTC().Format(time.RFC3339),
	}
	if s.status == "connected" {
		out["selling_partner_id"], out["region"], out["account_type"] = fakeSeller, "eu", "seller"
	}
	if s.err != "" {
		out["error"] = s.err
	}
	writeJSON(w, http.StatusOK, out)
}

// sellerConsents plays the seller's browser opening the connect URL and consenting at Amazon.
func (f *fakeAPI) sellerConsents(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, ok := f.byToken[r.URL.Query().Get("session")]
	if !ok {
		http.Error(w, "unknown session", http.StatusNotFound)
		return
	}
	delete(f.byToken, r.URL.Query().Get("session"))
	s := f.sessions[id]
	s.status = "connected"
	authorized := time.Date(2026, 12, 2, 10, 30, 0, 0, time.UTC)
	f.connections[fakeSeller+"/eu"] = fakeConnection{s.input["end_user_id"], map[string]any{
		"selling_partner_id": fakeSeller,
		"region":             "eu",
		"account_type":       "seller",
		"status":             "active",
		"authorized_at":      authorized.Format(time.RFC3339),
		"reauthorize_by":     authorized.AddDate(1, 0, 0).Format(time.RFC3339),
	}}
	io.WriteString(w, "Connected. You can close this page.")
}

func (f *fakeAPI) listConnections(w http.ResponseWriter, r *http.Request) {
	user := r.URL.Query().Get("end_user_id")
	if user == "" {
		writeError(w, http.StatusBadRequest, "invalid_request", "end_user_id is required.", "end_user_id")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []map[string]any{}
	for _, c := range f.connections {
		if c.endUserID == user {
			out = append(out, c.conn)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (f *fakeAPI) disconnect(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := r.PathValue("seller") + "/" + r.PathValue("region")
	c, ok := f.connections[key]
	if !ok {
		writeError(w, http.StatusNotFound, "connection_not_found", "No connection for that selling partner and region.", "")
		return
	}
	if r.URL.Query().Has("end_user_id") && r.URL.Query().Get("end_user_id") != c.endUserID {
		writeError(w, http.StatusConflict, "connected_to_another_user", "That connection belongs to another end user.", "end_user_id")
		return
	}
	delete(f.connections, key)
	w.WriteHeader(http.StatusNoContent)
}
