package server

import (
	"html/template"
	"net/http"
	"time"
)

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · MiniObserv</title>
<style>body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#1d2330;display:flex;min-height:100vh;align-items:center;justify-content:center;margin:0}
form{background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002;max-width:28rem;width:90%}
label{display:block;font-weight:600;margin-bottom:.5rem}input{width:100%;box-sizing:border-box;padding:.6rem;font:inherit;border:1px solid #7a8394;border-radius:4px}
button{margin-top:1rem;padding:.6rem 1.2rem;font:inherit;background:#1f4fd1;color:#fff;border:0;border-radius:4px;cursor:pointer}
p.err{color:#a4161a}code{background:#eef0f4;padding:0 .2rem}</style></head>
<body><form method="post" action="/login"><h1>MiniObserv</h1>
{{if .}}<p class="err" role="alert">{{.}}</p>{{end}}
<label for="token">Read token</label>
<input id="token" name="token" type="password" autocomplete="off" required autofocus>
<p>Mint one on the server with <code>miniobserv-server token --scope read</code>.</p>
<button type="submit">Sign in</button></form></body></html>`))

// mountLogin adds the dashboard sign-in routes: GET /login shows the form or,
// with ?token=, signs in from a one-time link; POST /login signs in from
// the form; POST /logout signs out.
func (s *Server) mountLogin() {
	s.api.HandleOpen("GET /login", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok := r.URL.Query().Get("token"); tok != "" {
			s.signIn(w, r, tok)
			return
		}
		renderLogin(w, http.StatusOK, "")
	}))
	s.api.HandleOpen("POST /login", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		s.signIn(w, r, r.PostFormValue("token"))
	}))
	s.api.HandleOpen("POST /logout", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.guard.SignOut(w)
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	}))
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request, token string) {
	if err := s.guard.SignIn(w, token, time.Now()); err != nil {
		s.log.Info("sign-in rejected", "remote", r.RemoteAddr, "err", err)
		renderLogin(w, http.StatusUnauthorized, "Sign-in failed: "+err.Error())
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func renderLogin(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = loginPage.Execute(w, msg)
}
