package policy

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Applicable is what a policy says about one principal doing one action on
// one key: whether a statement allows or denies it outright, and the
// statements whose conditions the request decides. It depends only on the
// principal and the action, so callers cache it.
type Applicable struct {
	DenyAlways  bool
	AllowAlways bool
	Denies      []*Statement // conditional
	Allows      []*Statement // conditional
}

// Match collects the statements that apply to principal p doing action on
// the key whose ARN is resource.
func (pol *Policy) Match(p *Principal, action, resource string) Applicable {
	var a Applicable
	for _, st := range pol.Statements {
		if !st.appliesTo(p, resource) || !st.hasAction(action) {
			continue
		}
		switch {
		case st.Deny && !st.Conditional():
			a.DenyAlways = true
		case st.Deny:
			a.Denies = append(a.Denies, st)
		case !st.Conditional():
			a.AllowAlways = true
		default:
			a.Allows = append(a.Allows, st)
		}
	}
	return a
}

// Decide applies the statements to a request's encryption context, whose
// keys (in any order) are keys: denied if a Deny holds, else allowed if an
// Allow holds. Neither means the policy does not allow the request.
func (a *Applicable) Decide(ec map[string]string, keys []string) (allowed, denied bool) {
	return a.DecideWith(ec, keys, nil)
}

// Conditional reports whether the request decides: whether some statement
// that applies has conditions.
func (a *Applicable) Conditional() bool { return len(a.Denies) > 0 || len(a.Allows) > 0 }

// DecideWith is Decide for a request with other condition keys, attrs
// (CondSigningAlgorithm, ...: their value in the request).
func (a *Applicable) DecideWith(ec map[string]string, keys []string, attrs map[string]string) (allowed, denied bool) {
	if a.DenyAlways {
		return false, true
	}
	for _, st := range a.Denies {
		if st.Holds(ec, keys, attrs) {
			return false, true
		}
	}
	if a.AllowAlways {
		return true, false
	}
	for _, st := range a.Allows {
		if st.Holds(ec, keys, attrs) {
			return true, false
		}
	}
	return false, false
}

// Visible reports whether some Allow statement names p for the key whose
// ARN is resource, for any action: whether p may know the key exists.
func (pol *Policy) Visible(p *Principal, resource string) bool {
	for _, st := range pol.Statements {
		if !st.Deny && len(st.actions) > 0 && st.appliesTo(p, resource) {
			return true
		}
	}
	return false
}

// AllowsOutright reports whether the policy allows p the action on the key
// with no condition and no Deny that could apply: the lockout safety check.
func (pol *Policy) AllowsOutright(p *Principal, action, resource string) bool {
	a := pol.Match(p, action, resource)
	return a.AllowAlways && !a.DenyAlways && len(a.Denies) == 0
}

func (st *Statement) appliesTo(p *Principal, resource string) bool {
	found := false
	for _, h := range st.Principals {
		if h.Matches(p) {
			found = true
			break
		}
	}
	if !found {
		return false
	}
	for _, r := range st.resources {
		if glob(r, resource) {
			return true
		}
	}
	return false
}

func (st *Statement) hasAction(action string) bool {
	for _, a := range st.actions {
		if matchAction(a, action) {
			return true
		}
	}
	return false
}

// Default is the policy of a new customer key: every action for root, for
// the uid that created the key, and for the admin group if there is one.
func Default(creator uint32, adminGroup string) string {
	ps := []string{"uid:0"}
	if creator != 0 {
		ps = append(ps, fmt.Sprintf("uid:%d", creator))
	}
	if adminGroup != "" {
		if strings.Trim(adminGroup, "0123456789") == "" {
			ps = append(ps, "gid:"+adminGroup)
		} else {
			ps = append(ps, "group:"+adminGroup)
		}
	}
	return render(map[string]any{
		"Version": "2012-10-17", "Id": "kmsd-default",
		"Statement": []map[string]any{{
			"Sid": "Enable key administration and use", "Effect": "Allow",
			"Principal": map[string]any{"Kmsd": ps}, "Action": "kms:*", "Resource": "*",
		}},
	})
}

// ServiceManaged is the policy of the key kmsd keeps for a systemd unit:
// everyone may look at it, only the unit may use it, nobody manages it.
func ServiceManaged(unit string) string {
	return render(map[string]any{
		"Version": "2012-10-17", "Id": "kmsd-service-managed",
		"Statement": []map[string]any{
			{"Sid": "Allow viewing", "Effect": "Allow", "Principal": "*", "Resource": "*",
				"Action": []string{"kms:DescribeKey", "kms:GetKeyPolicy", "kms:ListKeyPolicies", "kms:ListResourceTags",
					"kms:GetKeyRotationStatus", "kms:ListKeyRotations"}},
			{"Sid": "Allow use by " + unit, "Effect": "Allow", "Principal": map[string]any{"Kmsd": "unit:" + unit}, "Resource": "*",
				"Action": []string{"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"}},
		},
	})
}

func render(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(err) // static shapes
	}
	return string(b)
}
