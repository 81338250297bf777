package awssim

import (
	"testing"
	"time"
)

// A long load test mints a URL per launch and an AssumeRole per session: what
// expired more than expiredRetention ago must go, or memory grows for ever.
func TestPruneDropsWhatExpiredLongAgo(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := New(Options{Now: func() time.Time { return start }})
	put := func(key string, expires time.Time) {
		s.sessions[key] = &session{expires: expires}
		s.tokens[key] = &studioToken{presignedURL: presignedURL{expires: expires}}
		s.studioSessions[key] = &studioSession{expires: expires}
		s.notebookTokens[key] = &notebookToken{presignedURL: presignedURL{expires: expires}}
		s.notebookSessions[key] = &notebookSession{expires: expires}
	}
	put("old", start)
	put("recent", start.Add(expiredRetention)) // expired 1s before the prune
	sizes := func() []int {
		return []int{len(s.sessions), len(s.tokens), len(s.studioSessions), len(s.notebookTokens), len(s.notebookSessions)}
	}

	now := start.Add(expiredRetention + time.Second)
	s.pruneLocked(now)
	for i, n := range sizes() {
		if n != 1 {
			t.Fatalf("map %d holds %d entries after pruning, want 1 (only the recent one)", i, n)
		}
	}
	if s.tokens["recent"] == nil || s.notebookSessions["recent"] == nil {
		t.Fatal("pruning dropped an entry that expired less than expiredRetention ago")
	}

	// Pruning runs at most every 30 seconds, so minting stays cheap.
	put("old", start)
	s.pruneLocked(now.Add(29 * time.Second))
	if len(s.sessions) != 2 {
		t.Fatalf("pruned again within 30s: %d sessions, want 2", len(s.sessions))
	}
	s.pruneLocked(now.Add(30 * time.Second))
	if len(s.sessions) != 1 {
		t.Fatalf("not pruned after 30s: %d sessions, want 1", len(s.sessions))
	}
}

// Presigned-URL tokens go soon after they expire; credentials stay for
// the day so expired sessions keep their precise answer.
func TestPruneDropsURLTokensSoon(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := New(Options{Now: func() time.Time { return start }})
	s.tokens["url"] = &studioToken{presignedURL: presignedURL{expires: start}}
	s.notebookTokens["url"] = &notebookToken{presignedURL: presignedURL{expires: start}}
	s.sessions["creds"] = &session{expires: start}

	s.pruneLocked(start.Add(urlRetention - time.Second))
	if len(s.tokens) != 1 || len(s.notebookTokens) != 1 {
		t.Fatal("URL tokens dropped before urlRetention")
	}
	s.lastPrune = time.Time{}
	s.pruneLocked(start.Add(urlRetention + time.Second))
	if len(s.tokens) != 0 || len(s.notebookTokens) != 0 {
		t.Errorf("URL tokens kept past urlRetention: %d studio, %d notebook", len(s.tokens), len(s.notebookTokens))
	}
	if len(s.sessions) != 1 {
		t.Error("expired credentials dropped long before expiredRetention")
	}
}
