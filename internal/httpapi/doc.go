// Package httpapi adapts the authorization flow to API Gateway HTTP API events (payload 2.0):
// strict query parsing of rawQueryString (payload 2.0 joins repeated parameters with commas, so
// a repeated or comma-carrying parameter is refused), the __Host- state cookie, the pages a
// seller sees, and the one place where an error becomes a status code and a page. Every response
// carries Cache-Control: no-store and Referrer-Policy: no-referrer, so neither states nor codes
// linger in caches or leak to other sites.
package httpapi
