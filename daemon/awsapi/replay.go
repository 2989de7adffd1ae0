package awsapi

import (
	"sync"
	"time"

	"kmsd/wire/api"
)

// A signed request is valid for minutes (SigV4 allows five of clock skew
// either way), and AWS serves the same signed request again if it comes
// again: a request caught on its way (or in a proxy's log) could be sent
// again to change a key a second time. kmsd serves a request that changes
// state (api.OpSpec.SafeToRepeat false) once per signature: the same
// signature again within replayWindow is answered ThrottlingException,
// which the SDKs and the aws CLI retry, signing afresh (a new X-Amz-Date
// makes a new signature), so a client that truly sends the same request
// twice in one second (the date's grain) is served on its retry, and a
// replayer, who cannot sign, never is.
const (
	replayWindow = 11 * time.Minute // a signature's validity, with margin
	maxSeen      = 1 << 16          // signatures remembered at once
)

// seenSignatures remembers the signatures of the state-changing requests
// served, each until it could no longer verify.
type seenSignatures struct {
	mu   sync.Mutex
	seen map[string]time.Time // signature -> when it may be forgotten
}

// first reports whether sig is new, and remembers it. Past maxSeen
// remembered signatures (after forgetting expired ones) it reports false:
// when in doubt, refuse.
func (s *seenSignatures) first(sig string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[string]time.Time{}
	}
	if until, ok := s.seen[sig]; ok && now.Before(until) {
		return false
	}
	if len(s.seen) >= maxSeen {
		for k, until := range s.seen {
			if !now.Before(until) {
				delete(s.seen, k)
			}
		}
		if len(s.seen) >= maxSeen {
			return false
		}
	}
	s.seen[sig] = now.Add(replayWindow)
	return true
}

// replayed is the answer to a signature seen already.
func replayed() *api.Error {
	return &api.Error{Code: api.CodeThrottling, Message: "this signed request was served already: a request that changes state is served once per signature; sign it again to send it again"}
}
