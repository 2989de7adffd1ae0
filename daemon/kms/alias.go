package kms

import (
	"context"
	"kmsd/wire"
	"slices"
	"strings"

	"kmsd/keystore"
)

// CreateAlias makes a new alias point at a key. The name must follow AWS's
// rules and not be reserved; the target must exist and not be pending
// deletion; an existing name is AlreadyExistsException.
func (s *Service) CreateAlias(ctx context.Context, in *wire.AliasInput) error {
	e, err := s.aliasTarget(in)
	if err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	e.mu.RLock()
	err = checkState(wire.OpCreateAlias, e)
	e.mu.RUnlock()
	if err != nil {
		return err
	}
	s.mu.RLock()
	_, exists := s.aliases[in.AliasName]
	n := len(s.aliases)
	s.mu.RUnlock()
	if exists {
		return errorf(wire.CodeAlreadyExists, "alias %s already exists", aliasARN(in.AliasName))
	}
	if n >= s.cfg.Quotas.Aliases {
		return errorf(wire.CodeLimitExceeded, "the quota of %d aliases is reached", s.cfg.Quotas.Aliases)
	}
	now := s.now().UTC()
	a := &keystore.AliasRecord{AliasName: in.AliasName, TargetKeyID: e.id, CreationDate: now, LastUpdatedDate: now}
	return s.putAlias(wire.OpCreateAlias, a)
}

// aliasTarget checks an alias request's name and finds its target key
// (by key id or ARN only, as in AWS).
func (s *Service) aliasTarget(in *wire.AliasInput) (*entry, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	if err := checkAliasName(in.AliasName); err != nil {
		return nil, err
	}
	return s.resolve(in.TargetKeyId, false)
}

func (s *Service) putAlias(op string, a *keystore.AliasRecord) error {
	var b keystore.Batch
	b.PutAlias(a)
	if err := s.write(op, &b); err != nil {
		return err
	}
	s.mu.Lock()
	s.aliases[a.AliasName] = a
	s.mu.Unlock()
	return nil
}

// UpdateAlias points an existing alias at another key. The new target
// must not be pending deletion; the old one may be.
func (s *Service) UpdateAlias(ctx context.Context, in *wire.AliasInput) error {
	e, err := s.aliasTarget(in)
	if err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.RLock()
	old := s.aliases[in.AliasName]
	s.mu.RUnlock()
	if old == nil {
		return errorf(wire.CodeNotFound, "alias %s is not found", aliasARN(in.AliasName))
	}
	e.mu.RLock()
	err = checkState(wire.OpUpdateAlias, e)
	e.mu.RUnlock()
	if err != nil {
		return err
	}
	a := *old
	a.TargetKeyID, a.LastUpdatedDate = e.id, s.now().UTC()
	return s.putAlias(wire.OpUpdateAlias, &a)
}

// DeleteAlias removes an alias; the key is not affected.
func (s *Service) DeleteAlias(ctx context.Context, in *wire.DeleteAliasInput) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	if !strings.HasPrefix(in.AliasName, "alias/") {
		return errorf(wire.CodeValidation, "AliasName must begin with alias/")
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.RLock()
	_, ok := s.aliases[in.AliasName]
	s.mu.RUnlock()
	if !ok {
		return errorf(wire.CodeNotFound, "alias %s is not found", aliasARN(in.AliasName))
	}
	var b keystore.Batch
	b.DeleteAlias(in.AliasName)
	if err := s.write(wire.OpDeleteAlias, &b); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.aliases, in.AliasName)
	s.mu.Unlock()
	return nil
}

// ListAliases lists aliases in name order, optionally only those of one key
// (given by key id or ARN).
func (s *Service) ListAliases(ctx context.Context, in *wire.ListAliasesInput) (*wire.ListAliasesOutput, error) {
	limit, err := pageLimit(in.Limit, 100, 50)
	if err != nil {
		return nil, err
	}
	var filter *entry
	if in.KeyId != "" {
		if filter, err = s.resolve(in.KeyId, false); err != nil {
			return nil, err
		}
	}
	if in.Marker != "" && !strings.HasPrefix(in.Marker, "alias/") {
		return nil, errorf(wire.CodeInvalidMarker, "Marker is not one that ListAliases returned")
	}
	s.mu.RLock()
	var list []*keystore.AliasRecord
	for name, a := range s.aliases {
		if name > in.Marker && (filter == nil || a.TargetKeyID == filter.id) {
			list = append(list, a)
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(list, func(a, b *keystore.AliasRecord) int { return strings.Compare(a.AliasName, b.AliasName) })
	out := &wire.ListAliasesOutput{Aliases: []wire.AliasListEntry{}}
	if len(list) > limit {
		list = list[:limit]
		out.Truncated, out.NextMarker = true, list[limit-1].AliasName
	}
	for _, a := range list {
		out.Aliases = append(out.Aliases, wire.AliasListEntry{
			AliasName: a.AliasName, AliasArn: aliasARN(a.AliasName), TargetKeyId: a.TargetKeyID.String(),
			CreationDate: a.CreationDate, LastUpdatedDate: a.LastUpdatedDate,
		})
	}
	return out, nil
}
