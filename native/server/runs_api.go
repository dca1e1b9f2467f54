package server

import (
	"cmp"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aegis-safety/aegis/native/rundir"
	"github.com/aegis-safety/aegis/web"
)

// Stopping and deleting runs. Both are for runs started from the launch form only: the
// server stops only processes it started, and deletes only folders it created, never a
// run written by someone's own `aegis train`.

// errNotLaunched is the refusal to delete a run the launch form did not start.
var errNotLaunched = errors.New("only runs started from the launch form can be deleted here")

// fromForm reports whether a request was posted by a page's form (answered with a
// redirect back) rather than by an API client (answered with JSON).
func fromForm(r *http.Request) bool {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return ct == "application/x-www-form-urlencoded" || ct == "multipart/form-data"
}

// backTo is where a form's request returns: its "next" field when that is a path of this
// server, else the runs list.
func backTo(r *http.Request) string {
	next := r.PostFormValue("next")
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/"
	}
	return next
}

// answer ends a stop or delete: JSON for the API, a redirect with msg or err for forms.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, id, msg string, err error) {
	logNote(r, "run", id)
	if err != nil {
		logNote(r, "error", oneLine(err.Error()))
	}
	if fromForm(r) {
		u, _ := url.Parse(backTo(r))
		q := u.Query()
		q.Del("msg")
		q.Del("err")
		if err != nil {
			q.Set("err", oneLine(err.Error()))
		} else {
			q.Set("msg", msg)
		}
		u.RawQuery = q.Encode()
		http.Redirect(w, r, u.String(), http.StatusSeeOther)
		return
	}
	if err != nil {
		s.apiError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": id, "message": msg})
}

// apiStop interrupts a run the launch form started (POST /api/runs/{id}/stop); a second
// stop kills it.
func (s *Server) apiStop(w http.ResponseWriter, r *http.Request) {
	done := limitBody(w, r, 4<<10)
	r.ParseForm()
	done()
	id := r.PathValue("id")
	if !validID(id) {
		s.answer(w, r, id, "", errBadID)
		return
	}
	if s.opt.Launch == nil {
		s.answer(w, r, id, "", badRequest("launching is disabled on this server"))
		return
	}
	if err := s.opt.Launch.Stop(id); err != nil {
		if errors.Is(err, ErrNotLaunched) {
			err = &userError{fmt.Sprintf("run %s: %v", id, err)}
		}
		s.answer(w, r, id, "", err)
		return
	}
	s.answer(w, r, id, fmt.Sprintf("stopping %s: it saves what it has, then exits (stop again to kill it)", id), nil)
}

// apiDelete removes the folder of a run the launch form started, once it is not running
// (DELETE /api/runs/{id}, or POST /api/runs/{id}/delete from a form).
func (s *Server) apiDelete(w http.ResponseWriter, r *http.Request) {
	done := limitBody(w, r, 4<<10)
	r.ParseForm()
	done()
	id := r.PathValue("id")
	dir, err := s.runs.path(id)
	if err != nil {
		s.answer(w, r, id, "", err)
		return
	}
	run, err := s.runs.get(id, false)
	switch {
	case errors.Is(err, errNoRun) && exists(filepath.Join(dir, rundir.LogFile)):
		// A launch that failed before its run wrote anything: only its log is there.
		if alive, _ := rundir.Alive(dir); alive || (s.runs.active != nil && s.runs.active(id)) {
			err = badRequest("run %s is running: stop it first", id)
		} else {
			err = nil
		}
	case err != nil:
	case !run.Launched:
		err = &userError{fmt.Sprintf("run %s: %v", id, errNotLaunched)}
	case run.Status == StatusRunning:
		err = badRequest("run %s is running: stop it first", id)
	}
	if err == nil {
		err = os.RemoveAll(dir)
	}
	if err != nil {
		s.answer(w, r, id, "", err)
		return
	}
	if pl, ok := s.opt.Launch.(*ProcessLauncher); ok {
		pl.forget(id)
	}
	s.answer(w, r, id, "deleted "+id, nil)
}

// runsQuery is the runs list's search, filters and order (the query of /).
type runsQuery = web.RunsFilter

// readRunsQuery reads ?q=&status=&kind=&sort=&order=.
func readRunsQuery(v url.Values) runsQuery {
	q := runsQuery{Q: strings.TrimSpace(v.Get("q")), Status: v.Get("status"), Kind: v.Get("kind"), Sort: v.Get("sort"), Order: v.Get("order")}
	if !slices.Contains(web.RunSorts, q.Sort) {
		q.Sort = "started"
	}
	if q.Order != "asc" && q.Order != "desc" {
		q.Order = "desc"
		if q.Sort == "id" || q.Sort == "method" || q.Sort == "model" || q.Sort == "status" {
			q.Order = "asc"
		}
	}
	return q
}

// filterRuns keeps the runs that match q, in q's order. The search matches the id,
// method, model and status, case-insensitively, every word.
func filterRuns(runs []*Run, q runsQuery) []*Run {
	words := strings.Fields(strings.ToLower(q.Q))
	var out []*Run
	for _, r := range runs {
		if q.Status != "" && r.Status != q.Status || q.Kind != "" && r.Kind != q.Kind {
			continue
		}
		hay := strings.ToLower(strings.Join([]string{r.ID, r.Method, r.Model, r.Status, r.Kind}, " "))
		ok := true
		for _, w := range words {
			ok = ok && strings.Contains(hay, w)
		}
		if ok {
			out = append(out, r)
		}
	}
	progress := func(r *Run) float64 {
		if r.Total > 0 {
			return float64(r.Step) / float64(r.Total)
		}
		return float64(r.Step)
	}
	slices.SortStableFunc(out, func(a, b *Run) int {
		var c int
		switch q.Sort {
		case "id":
			c = cmp.Compare(a.ID, b.ID)
		case "status":
			c = cmp.Compare(a.Status, b.Status)
		case "method":
			c = cmp.Compare(a.Method, b.Method)
		case "model":
			c = cmp.Compare(a.Model, b.Model)
		case "progress":
			c = cmp.Compare(progress(a), progress(b))
		case "updated":
			c = a.Updated.Compare(b.Updated)
		default:
			c = a.Started.Compare(b.Started)
		}
		if q.Order == "desc" {
			c = -c
		}
		if c == 0 {
			c = cmp.Compare(a.ID, b.ID)
		}
		return c
	})
	return out
}
