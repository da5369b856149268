package authflow

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// ReturnURLs is the allowlist of ALLOWED_RETURN_URLS: where a session may send the seller's
// browser back to. A plain string prefix would let "https://app.example.com" admit
// "https://app.example.com.evil.com" or "https://app.example.com@evil.com", so each entry is
// parsed and a return URL must have exactly its scheme, host and port, and a path under its path
// at a segment boundary.
type ReturnURLs []returnPrefix

type returnPrefix struct {
	scheme, host, path string
}

// ParseReturnURLs reads the comma-separated prefixes. Each must be an absolute https URL (http
// only on a loopback host, for local development) without userinfo, query or fragment.
func ParseReturnURLs(list string) (ReturnURLs, error) {
	var out ReturnURLs
	for raw := range strings.SplitSeq(list, ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		u, err := strictURL(raw)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", raw, err)
		}
		if u.RawQuery != "" || u.ForceQuery {
			return nil, fmt.Errorf("%q: a prefix has no query", raw)
		}
		p := u.EscapedPath()
		if p == "" {
			p = "/"
		}
		out = append(out, returnPrefix{scheme: u.Scheme, host: u.Host, path: p})
	}
	return out, nil
}

// Allowed reports whether raw is a return URL the allowlist admits.
func (r ReturnURLs) Allowed(raw string) bool {
	if len(raw) > 2048 {
		return false
	}
	u, err := strictURL(raw)
	if err != nil {
		return false
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	for _, p := range r {
		if u.Scheme != p.scheme || u.Host != p.host {
			continue
		}
		if path == p.path || strings.HasSuffix(p.path, "/") && strings.HasPrefix(path, p.path) ||
			strings.HasPrefix(path, p.path+"/") {
			return true
		}
	}
	return false
}

// strictURL parses an absolute http(s) URL, refusing every spelling that a browser might read
// differently from url.Parse: controls, spaces, non-ASCII, backslashes, userinfo, fragments,
// escaped or empty hosts, dot segments. The host comes back lower case, without a default port.
func strictURL(raw string) (*url.URL, error) {
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= ' ' || c >= 0x7f || c == '\\' || c == '#' || c == '@' {
			return nil, errors.New("has a control, space, non-ASCII, backslash, @ or # character")
		}
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, errors.New("does not parse as a URL")
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, errors.New("must be an absolute https URL")
	case u.Opaque != "" || u.User != nil || u.Hostname() == "" || strings.Contains(u.Host, "%"):
		return nil, errors.New("has no plain host")
	case strings.HasSuffix(u.Host, ":"):
		return nil, errors.New("has an empty port")
	}
	for seg := range strings.SplitSeq(u.EscapedPath(), "/") {
		if s := strings.ToLower(seg); s == "." || s == ".." || s == "%2e" || s == "%2e%2e" || s == ".%2e" || s == "%2e." {
			return nil, errors.New("has a dot segment")
		}
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if u.Scheme == "http" && !loopbackHost(host) {
		return nil, errors.New("must use https (http only on a loopback host)")
	}
	if port == "443" && u.Scheme == "https" || port == "80" && u.Scheme == "http" {
		port = ""
	}
	u.Host = host
	if strings.Contains(host, ":") {
		u.Host = "[" + host + "]"
	}
	if port != "" {
		u.Host = net.JoinHostPort(host, port)
	}
	return u, nil
}

func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
