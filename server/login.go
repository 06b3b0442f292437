package server

import (
	"net/http"
	"time"

	"github.com/kamerrezz/theminidog/server/dashboard"
)

// mountLogin adds the dashboard sign-in routes: GET /login shows the form or,
// with ?token=, signs in from a one-time link; POST /login signs in from
// the form; POST /logout signs out.
func (s *Server) mountLogin() {
	page := dashboard.LoginHandler()
	s.api.HandleOpen("GET /login", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok := r.URL.Query().Get("token"); tok != "" {
			s.signIn(w, r, tok)
			return
		}
		page.ServeHTTP(w, r)
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

// signIn sets the session cookie and sends the browser to the dashboard,
// or back to the sign-in page, which shows an error for #invalid.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request, token string) {
	if err := s.guard.SignIn(w, token, time.Now()); err != nil {
		s.log.Info("sign-in rejected", "remote", r.RemoteAddr, "err", err)
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, "/login#invalid", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// mountDashboard serves the dashboard and its assets to signed-in users.
func (s *Server) mountDashboard() {
	if !s.cfg.DashboardEnabled {
		return
	}
	h := s.guard.RequirePage("/", dashboard.Handler())
	s.api.HandleOpen("GET /{$}", h)
	s.api.HandleOpen("GET /index.html", h)
	s.api.HandleOpen("GET "+dashboard.AssetPrefix, h)
}
