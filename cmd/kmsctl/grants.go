package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"kmsd/wire/api"
	"kmsd/wire/client"
)

type putKeyPolicyCmd struct {
	KeyID                          string `name:"key-id" required:""`
	PolicyName                     string `default:"default" help:"Always default."`
	Policy                         string `required:"" help:"The policy document (JSON, or file://PATH)."`
	BypassPolicyLockoutSafetyCheck bool   `negatable:"" help:"Accept a policy that will not let you change it later."`
}

func (c *putKeyPolicyCmd) run(e *env) error {
	pol, err := readText("policy", c.Policy)
	if err != nil {
		return usageError{err}
	}
	return call(e, api.OpPutKeyPolicy, &api.PutKeyPolicyInput{KeyId: c.KeyID, PolicyName: c.PolicyName, Policy: pol,
		BypassPolicyLockoutSafetyCheck: c.BypassPolicyLockoutSafetyCheck})
}

type getKeyPolicyCmd struct {
	KeyID      string `name:"key-id" required:""`
	PolicyName string `default:"default" help:"Always default."`
}

func (c *getKeyPolicyCmd) run(e *env) error {
	return call(e, api.OpGetKeyPolicy, &api.GetKeyPolicyInput{KeyId: c.KeyID, PolicyName: c.PolicyName})
}

type listKeyPoliciesCmd struct {
	KeyID string `name:"key-id" required:""`
	paging
}

func (c *listKeyPoliciesCmd) run(e *env) error {
	return list(e, c.paging, "PolicyNames", func(cl *client.Client, m string, l *int32) *client.Paginator[string] {
		return client.NewListKeyPoliciesPaginator(cl, &api.ListKeyPoliciesInput{KeyId: c.KeyID, Marker: m, Limit: l})
	})
}

type createGrantCmd struct {
	KeyID             string   `name:"key-id" required:""`
	GranteePrincipal  string   `required:"" help:"uid:N, user:NAME or unit:NAME."`
	RetiringPrincipal string   `help:"Who may retire the grant: uid:N, user:NAME or unit:NAME."`
	Operations        []string `required:"" help:"Encrypt, Decrypt, ReEncryptFrom, ReEncryptTo, GenerateDataKey, GenerateDataKeyWithoutPlaintext, DescribeKey, CreateGrant, RetireGrant (repeatable, or a JSON list)." sep:"none"`
	Constraints       string   `help:"EncryptionContextSubset={k=v,...} and/or EncryptionContextEquals={k=v,...}, or JSON."`
	GrantTokens       []string `help:"Grant tokens."`
	Name              string   `help:"A name that makes retries return the same grant."`
}

func (c *createGrantCmd) run(e *env) error {
	ops, err := readList("operations", c.Operations)
	if err != nil {
		return usageError{err}
	}
	cons, err := readConstraints(c.Constraints)
	if err != nil {
		return usageError{err}
	}
	return call(e, api.OpCreateGrant, &api.CreateGrantInput{KeyId: c.KeyID, GranteePrincipal: c.GranteePrincipal,
		RetiringPrincipal: c.RetiringPrincipal, Operations: ops, Constraints: cons, GrantTokens: c.GrantTokens, Name: c.Name})
}

// readConstraints parses --constraints in the AWS CLI's shorthand
// (EncryptionContextSubset={k1=v1,k2=v2},EncryptionContextEquals={...}) or
// as JSON.
func readConstraints(v string) (api.GrantConstraints, error) {
	var c api.GrantConstraints
	v, err := readText("constraints", v)
	if err != nil || v == "" {
		return c, err
	}
	if strings.HasPrefix(strings.TrimSpace(v), "{") {
		d := json.NewDecoder(strings.NewReader(v))
		d.DisallowUnknownFields()
		if err := d.Decode(&c); err != nil {
			return c, fmt.Errorf("--constraints: %w", err)
		}
		return c, nil
	}
	for v != "" {
		name, rest, ok := strings.Cut(v, "={")
		end := strings.Index(rest, "}")
		if !ok || end < 0 {
			return c, fmt.Errorf("--constraints: want EncryptionContextSubset={k=v,...} or EncryptionContextEquals={k=v,...}")
		}
		m, err := readContext("constraints", rest[:end])
		if err != nil {
			return c, err
		}
		switch name {
		case "EncryptionContextSubset":
			c.EncryptionContextSubset = m
		case "EncryptionContextEquals":
			c.EncryptionContextEquals = m
		default:
			return c, fmt.Errorf("--constraints: unknown constraint %q", name)
		}
		v = strings.TrimPrefix(rest[end+1:], ",")
	}
	return c, nil
}

type listGrantsCmd struct {
	KeyID            string `name:"key-id" required:""`
	GrantID          string `name:"grant-id" help:"Only this grant."`
	GranteePrincipal string `help:"Only this grantee's grants."`
	paging
}

func (c *listGrantsCmd) run(e *env) error {
	return list(e, c.paging, "Grants", func(cl *client.Client, m string, l *int32) *client.Paginator[api.GrantListEntry] {
		return client.NewListGrantsPaginator(cl, &api.ListGrantsInput{KeyId: c.KeyID, GrantId: c.GrantID,
			GranteePrincipal: c.GranteePrincipal, Marker: m, Limit: l})
	})
}

type listRetirableGrantsCmd struct {
	RetiringPrincipal string `required:"" help:"uid:N, user:NAME or unit:NAME."`
	paging
}

func (c *listRetirableGrantsCmd) run(e *env) error {
	return list(e, c.paging, "Grants", func(cl *client.Client, m string, l *int32) *client.Paginator[api.GrantListEntry] {
		return client.NewListRetirableGrantsPaginator(cl, &api.ListRetirableGrantsInput{RetiringPrincipal: c.RetiringPrincipal, Marker: m, Limit: l})
	})
}

type retireGrantCmd struct {
	GrantToken string `help:"The grant's token."`
	KeyID      string `name:"key-id" help:"With --grant-id, instead of --grant-token."`
	GrantID    string `name:"grant-id"`
}

func (c *retireGrantCmd) run(e *env) error {
	return call(e, api.OpRetireGrant, &api.RetireGrantInput{GrantToken: c.GrantToken, KeyId: c.KeyID, GrantId: c.GrantID})
}

type revokeGrantCmd struct {
	KeyID   string `name:"key-id" required:""`
	GrantID string `name:"grant-id" required:""`
}

func (c *revokeGrantCmd) run(e *env) error {
	return call(e, api.OpRevokeGrant, &api.RevokeGrantInput{KeyId: c.KeyID, GrantId: c.GrantID})
}
