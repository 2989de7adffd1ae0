package kms

import (
	"context"
	"slices"
	"strings"

	"kmsd/daemon/policy"
	"kmsd/keystore"
	"kmsd/wire/api"
)

// CreateAlias makes a new alias point at a key, in the caller's namespace
// (aliases.go). The name must follow AWS's rules and not be reserved; the
// target must exist and not be pending deletion; a name the caller's
// namespace already has is AlreadyExistsException.
func (s *Service) CreateAlias(ctx context.Context, in *api.AliasInput) error {
	p, err := principalOf(ctx)
	if err != nil {
		return err
	}
	e, err := s.aliasTarget(ctx, in)
	if err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.authorizeState(ctx, e, api.OpCreateAlias); err != nil {
		return err
	}
	ref := s.home(p, in.AliasName)
	s.mu.RLock()
	_, exists := s.aliases[ref]
	n := s.countIn(ref)
	s.mu.RUnlock()
	if exists {
		return errorf(api.CodeAlreadyExists, "alias %s already exists", s.aliasARN(in.AliasName))
	}
	if n >= s.cfg.Quotas.Aliases {
		return errorf(api.CodeLimitExceeded, "the quota of %d aliases is reached", s.cfg.Quotas.Aliases)
	}
	now := s.now().UTC()
	a := &keystore.AliasRecord{AliasName: in.AliasName, Owner: ref.ownerField(), TargetKeyID: e.id, CreationDate: now, LastUpdatedDate: now}
	return s.putAlias(api.OpCreateAlias, a, "aliases")
}

// aliasTarget checks an alias request's name and finds its target key
// (by key id or ARN only, as in AWS).
func (s *Service) aliasTarget(ctx context.Context, in *api.AliasInput) (*entry, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	if err := checkAliasName(in.AliasName); err != nil {
		return nil, err
	}
	return s.resolve(ctx, in.TargetKeyId, false)
}

func (s *Service) putAlias(op string, a *keystore.AliasRecord, fences ...string) error {
	var b keystore.Batch
	b.PutAlias(a)
	for _, f := range fences {
		s.fence(&b, f)
	}
	if err := s.write(op, &b); err != nil {
		return err
	}
	s.mu.Lock()
	s.aliases[refOf(a)] = a
	s.mu.Unlock()
	return nil
}

// ownAlias finds the alias of that name that the caller may change: one
// in its own namespace. A user naming an administrators' alias it can see
// is AccessDeniedException; any other name is not found.
func (s *Service) ownAlias(ctx context.Context, name string) (*keystore.AliasRecord, error) {
	p, err := principalOf(ctx)
	if err != nil {
		return nil, err
	}
	ref := s.home(p, name)
	s.mu.RLock()
	a := s.aliases[ref]
	shared := s.aliases[aliasRef{shared: true, name: name}]
	s.mu.RUnlock()
	switch {
	case a != nil && s.aliasVisible(ctx, a):
		return a, nil
	case a == nil && !ref.shared && shared != nil && s.aliasVisible(ctx, shared):
		return nil, errorf(api.CodeAccessDenied, "%s is not authorized to change alias %s: it is an administrators' alias", p, s.aliasARN(name))
	}
	return nil, s.aliasNotFound(name)
}

// UpdateAlias points an existing alias of the caller's at another key. The
// new target must not be pending deletion; the old one may be.
func (s *Service) UpdateAlias(ctx context.Context, in *api.AliasInput) error {
	e, err := s.aliasTarget(ctx, in)
	if err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	old, err := s.ownAlias(ctx, in.AliasName)
	if err != nil {
		return err
	}
	if oldKey := s.lookup(old.TargetKeyID); oldKey != nil {
		oldKey.mu.RLock()
		_, err := s.authorize(ctx, oldKey, "kms:UpdateAlias", nil, nil)
		was, wasUsage := keyType(oldKey.rec), oldKey.rec.KeyUsage
		oldKey.mu.RUnlock()
		if err != nil {
			return err
		}
		e.mu.RLock()
		is, isUsage := keyType(e.rec), e.rec.KeyUsage
		e.mu.RUnlock()
		if was != is || wasUsage != isUsage {
			return errorf(api.CodeValidation, "%s points at a %s key of usage %s; it can move only to a key of the same type and usage, not a %s key of usage %s",
				in.AliasName, was, wasUsage, is, isUsage)
		}
	}
	if err := s.authorizeState(ctx, e, api.OpUpdateAlias); err != nil {
		return err
	}
	a := *old
	a.TargetKeyID, a.LastUpdatedDate = e.id, s.now().UTC()
	return s.putAlias(api.OpUpdateAlias, &a)
}

// DeleteAlias removes an alias of the caller's; the key is not affected.
func (s *Service) DeleteAlias(ctx context.Context, in *api.DeleteAliasInput) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	if !strings.HasPrefix(in.AliasName, "alias/") {
		return errorf(api.CodeValidation, "AliasName must begin with alias/")
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	a, err := s.ownAlias(ctx, in.AliasName)
	if err != nil {
		return err
	}
	if e := s.lookup(a.TargetKeyID); e != nil {
		e.mu.RLock()
		_, err := s.authorize(ctx, e, "kms:DeleteAlias", nil, nil)
		e.mu.RUnlock()
		if err != nil {
			return err
		}
	}
	var b keystore.Batch
	b.DeleteAlias(a.Owner, a.AliasName)
	if err := s.write(api.OpDeleteAlias, &b); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.aliases, refOf(a))
	s.mu.Unlock()
	return nil
}

// ListAliases lists the aliases the caller's names resolve to (its own,
// and the administrators' it does not shadow; aliases.go) whose keys it
// may see, in name order, optionally only those of one key (given by key
// id or ARN).
func (s *Service) ListAliases(ctx context.Context, in *api.ListAliasesInput) (*api.ListAliasesOutput, error) {
	limit, err := pageLimit(in.Limit, 100, 50)
	if err != nil {
		return nil, err
	}
	p, err := principalOf(ctx)
	if err != nil {
		return nil, err
	}
	var filter *entry
	if in.KeyId != "" {
		if filter, err = s.resolve(ctx, in.KeyId, false); err != nil {
			return nil, err
		}
		filter.mu.RLock()
		visible := visibleTo(filter, p)
		filter.mu.RUnlock()
		if !visible {
			return nil, notFound(filter.arn)
		}
	}
	if in.Marker != "" && !strings.HasPrefix(in.Marker, "alias/") {
		return nil, errorf(api.CodeInvalidMarker, "Marker is not one that ListAliases returned")
	}
	s.mu.RLock()
	list := s.aliasesOf(p)
	s.mu.RUnlock()
	list = slices.DeleteFunc(list, func(a *keystore.AliasRecord) bool {
		return a.AliasName <= in.Marker || (filter != nil && a.TargetKeyID != filter.id)
	})
	list = slices.DeleteFunc(list, func(a *keystore.AliasRecord) bool { return !s.aliasVisible(ctx, a) })
	slices.SortFunc(list, func(a, b *keystore.AliasRecord) int { return strings.Compare(a.AliasName, b.AliasName) })
	out := &api.ListAliasesOutput{Aliases: []api.AliasListEntry{}}
	if len(list) > limit {
		list = list[:limit]
		out.Truncated, out.NextMarker = true, list[limit-1].AliasName
	}
	for _, a := range list {
		out.Aliases = append(out.Aliases, api.AliasListEntry{
			AliasName: a.AliasName, AliasArn: s.aliasARN(a.AliasName), TargetKeyId: a.TargetKeyID.String(),
			CreationDate: a.CreationDate, LastUpdatedDate: a.LastUpdatedDate,
		})
	}
	return out, nil
}

// aliasVisible reports whether the caller may see an alias: whether it
// may see the alias's key.
func (s *Service) aliasVisible(ctx context.Context, a *keystore.AliasRecord) bool {
	p := policy.From(ctx)
	e := s.lookup(a.TargetKeyID)
	if p == nil || e == nil {
		return false
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	return visibleTo(e, p)
}

// authorizeState authorizes the caller for op on e and applies the
// key-state table.
func (s *Service) authorizeState(ctx context.Context, e *entry, op string) error {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if _, err := s.authorize(ctx, e, action(op), nil, nil); err != nil {
		return err
	}
	return checkState(op, e)
}

// keyType is a key's type as UpdateAlias compares them (AWS's rule: an
// alias moves only between keys of one type and usage).
func keyType(r *keystore.KeyRecord) string {
	switch {
	case isSymmetric(r):
		return "symmetric"
	case strings.HasPrefix(r.KeySpec, "HMAC_"):
		return "HMAC"
	}
	return "asymmetric"
}
