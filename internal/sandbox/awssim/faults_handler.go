package awssim

import (
	"encoding/json"
	"io"
	"net/http"
)

// maxChaosBytes bounds a PUT body; a Chaos document is a few hundred bytes.
const maxChaosBytes = 64 << 10

// FaultsHandler serves the Chaos in force as JSON: GET reads it, PUT
// replaces it (an empty object clears it), so a browser test or a person
// with curl can start and end an outage in a running `sagegate dev`:
//
//	curl -X PUT -d '{"outageAccounts":["222222222222"]}' http://127.0.0.1:8080/dev/aws/faults
func (s *Simulator) FaultsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		switch r.Method {
		case http.MethodGet, http.MethodHead:
		case http.MethodPut:
			var c Chaos
			dec := json.NewDecoder(io.LimitReader(r.Body, maxChaosBytes))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&c); err != nil {
				http.Error(w, "invalid chaos document: "+err.Error(), http.StatusBadRequest)
				return
			}
			if err := s.SetChaos(c); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
		default:
			w.Header().Set("Allow", "GET, HEAD, PUT")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.Chaos())
	})
}
