package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// CORS for /v1 (Options.CORSOrigin): one named browser origin may call the
// OpenAI-compatible API from its pages. Only /v1 answers it; the monitor's pages, JSON API,
// websockets and uploads stay same-origin.

// CheckOrigin reads a browser origin, scheme://host[:port] (http or https, no path), and
// returns it as browsers send it in Origin (lower case).
func CheckOrigin(o string) (string, error) {
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("CORS origin %q: %s (want scheme://host[:port], e.g. http://localhost:3000)", o, why)
	}
	if o == "*" || o == "null" {
		return bad("only one named origin can be allowed")
	}
	u, err := url.Parse(o)
	if err != nil {
		return bad("not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return bad("the scheme must be http or https")
	}
	if u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return bad("an origin is a scheme and a host, with an optional port, and nothing else")
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

// corsAllowed reports whether r comes from the page of the allowed origin.
func (s *Server) corsAllowed(r *http.Request) bool {
	o := r.Header.Get("Origin")
	return s.opt.CORSOrigin != "" && o != "" && strings.EqualFold(o, s.opt.CORSOrigin)
}

// corsHeaders lets the allowed origin read the answer.
func (s *Server) corsHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", s.opt.CORSOrigin)
	h.Add("Vary", "Origin")
}

// preflight answers a CORS preflight of the allowed origin: the methods /v1 takes and
// the headers the page asked to send (OpenAI's clients send their own X-Stainless-*
// headers besides Authorization and Content-Type).
func (s *Server) preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Add("Vary", "Access-Control-Request-Method")
	h.Add("Vary", "Access-Control-Request-Headers")
	h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	allow := "Authorization, Content-Type"
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" && headerList(req) {
		allow = req
	}
	h.Set("Access-Control-Allow-Headers", allow)
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

// headerList reports whether v is a comma-separated list of header names.
func headerList(v string) bool {
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" || len(f) > 100 {
			return false
		}
		for _, c := range f {
			if !(c == '-' || c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				return false
			}
		}
	}
	return len(v) <= 2000
}
