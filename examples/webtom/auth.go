package main

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/tomgo/targetdata/singletarget"
)

// Environment variables of the optional login.
const (
	envUser     = "WEBTOM_USER"
	envPassword = "WEBTOM_PASSWORD"
	// defaultUser is the user name when only WEBTOM_PASSWORD is set.
	defaultUser = "tom"
	// minPassword is the shortest password accepted, in bytes: the login
	// has no lock-out, so the password must be too long to guess.
	minPassword = 16
)

// basicAuth is webtom's optional login: HTTP Basic authentication with
// one user name and password, read from the environment. Browsers ask for
// it once and send it with every request, so every page, plot and form
// post is covered without a login page; the CSRF check of posts stays.
type basicAuth struct {
	user     string
	password singletarget.Secret
}

// authFromEnv reads WEBTOM_USER (default "tom") and WEBTOM_PASSWORD
// through lookup. It returns nil, nil when neither is set (no login), and
// an error naming the variable when the user is set without a password or
// the password is shorter than minPassword bytes. The error never
// contains the password.
func authFromEnv(lookup func(string) (string, bool)) (*basicAuth, error) {
	user, hasUser := lookup(envUser)
	password, _ := lookup(envPassword)
	switch {
	case password == "" && !hasUser:
		return nil, nil
	case password == "":
		return nil, fmt.Errorf("%s is set but %s is empty: set both, or neither to run without a login", envUser, envPassword)
	case len(password) < minPassword:
		return nil, fmt.Errorf("%s is %d bytes long; use at least %d (e.g. the output of `openssl rand -base64 24`)", envPassword, len(password), minPassword)
	case user == "":
		user = defaultUser
	}
	return &basicAuth{user: user, password: singletarget.Secret(password)}, nil
}

// allows reports whether r carries the user name and password. Both are
// compared in constant time (as SHA-256 digests, so that their lengths do
// not show either).
func (a *basicAuth) allows(r *http.Request) bool {
	user, password, ok := r.BasicAuth()
	if !ok {
		return false
	}
	gu, wu := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(a.user))
	gp, wp := sha256.Sum256([]byte(password)), sha256.Sum256([]byte(a.password.Reveal()))
	return subtle.ConstantTimeCompare(gu[:], wu[:])&subtle.ConstantTimeCompare(gp[:], wp[:]) == 1
}

// challenge answers a request without the right credentials: 401 with
// the header that makes a browser ask for them.
func (a *basicAuth) challenge(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Basic realm="webtom", charset="UTF-8"`)
	http.Error(w, "Log in with the user name and password the server was started with (WEBTOM_USER, WEBTOM_PASSWORD).", http.StatusUnauthorized)
}

// errAnonymous is returned by checkExposure.
var errAnonymous = errors.New("refusing to serve a non-loopback address without a login")

// checkExposure decides whether webtom may serve on addr (the listener's
// address): a loopback address always; any other address only with a
// login, or with allowAnonymous (an authenticating proxy in front). The
// returned error says how to fix it.
func checkExposure(addr net.Addr, auth *basicAuth, allowAnonymous bool) error {
	if auth != nil || allowAnonymous || isLoopback(addr) {
		return nil
	}
	return fmt.Errorf("%w: %s is reachable from other machines, and anyone reaching it could spend your archive quotas, cancel jobs and upload files; "+
		"set %s (and %s), or listen on 127.0.0.1, or pass -allow-anonymous when an authenticating proxy stands in front",
		errAnonymous, addr, envPassword, envUser)
}

// isLoopback reports whether addr is a TCP address on a loopback
// interface ("127.0.0.1:8080", "[::1]:8080"); an unspecified address
// ("0.0.0.0", "::", which listen on every interface) is not.
func isLoopback(addr net.Addr) bool {
	a, ok := addr.(*net.TCPAddr)
	return ok && a.IP.IsLoopback()
}

// isLoopbackHost reports whether a request's Host names this machine:
// "localhost" (or a name under .localhost) or a loopback IP, with or
// without a port.
func isLoopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
