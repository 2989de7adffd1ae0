package kms

import (
	"context"

	"kmsd/daemon/policy"
	"kmsd/keystore"
)

// Aliases live in namespaces, as AWS scopes them per account: each user
// (uid) has its own, and the administrators (root, and the admin group)
// share one. A user's names resolve in its own namespace first, then in
// the administrators'; an administrator's in the administrators' only.
// So a name one user makes can change what it resolves to for that user
// alone: no user can squat a name that another user, or root, resolves.
// Aliases kmsd makes (alias/managed/UNIT) are the administrators'.

// aliasRef is an alias's place: its name in owner's namespace, or in the
// administrators' (shared).
type aliasRef struct {
	shared bool
	owner  uint32
	name   string
}

// refOf is where a stored alias lives.
func refOf(a *keystore.AliasRecord) aliasRef {
	if a.Owner == nil {
		return aliasRef{shared: true, name: a.AliasName}
	}
	return aliasRef{owner: *a.Owner, name: a.AliasName}
}

// isAdmin reports whether p is an administrator: root, or in the admin
// group.
func (s *Service) isAdmin(p *policy.Principal) bool {
	if p == nil {
		return false
	}
	if p.UID == 0 {
		return true
	}
	h := s.admins.Load()
	return h != nil && h.Matches(p)
}

// IsAdmin reports whether the caller is root or in the admin group: who
// may see every row of usage counts, and whose aliases every user sees.
func (s *Service) IsAdmin(ctx context.Context) bool { return s.isAdmin(policy.From(ctx)) }

// home is where p's new aliases go: its own namespace, or the
// administrators' for an administrator (and for kmsd itself, p nil).
func (s *Service) home(p *policy.Principal, name string) aliasRef {
	if p == nil || s.isAdmin(p) {
		return aliasRef{shared: true, name: name}
	}
	return aliasRef{owner: p.UID, name: name}
}

// owner is the Owner an alias record of ref takes.
func (r aliasRef) ownerField() *uint32 {
	if r.shared {
		return nil
	}
	o := r.owner
	return &o
}

// findAlias is the alias name means to p: p's own, else the
// administrators'. The caller holds s.mu.
func (s *Service) findAlias(p *policy.Principal, name string) *keystore.AliasRecord {
	if home := s.home(p, name); !home.shared {
		if a := s.aliases[home]; a != nil {
			return a
		}
	}
	return s.aliases[aliasRef{shared: true, name: name}]
}

// aliasesOf lists what p sees by name: its own aliases, and the
// administrators' that none of its own shadows. The caller holds s.mu.
func (s *Service) aliasesOf(p *policy.Principal) []*keystore.AliasRecord {
	home := s.home(p, "")
	var list []*keystore.AliasRecord
	for ref, a := range s.aliases {
		switch {
		case ref.shared && !home.shared:
			if s.aliases[aliasRef{owner: home.owner, name: ref.name}] != nil {
				continue // shadowed by the user's own
			}
		case ref.shared:
		case home.shared || ref.owner != home.owner:
			continue // another user's
		}
		list = append(list, a)
	}
	return list
}

// countIn counts the aliases of ref's namespace (for the quota). The
// caller holds s.mu.
func (s *Service) countIn(ref aliasRef) int {
	n := 0
	for r := range s.aliases {
		if r.shared == ref.shared && r.owner == ref.owner {
			n++
		}
	}
	return n
}
