package api

// PutKeyPolicyInput is the request of PutKeyPolicy.
type PutKeyPolicyInput struct {
	KeyId                          string `json:",omitzero"` // key id or key ARN
	PolicyName                     string `json:",omitzero"` // "default" (or empty)
	Policy                         string `json:",omitzero"` // the policy document (JSON, or file://PATH)
	BypassPolicyLockoutSafetyCheck bool   `json:",omitzero"` // accept a policy that will not let you change it later
}

// GetKeyPolicyInput is the request of GetKeyPolicy.
type GetKeyPolicyInput struct {
	KeyId      string `json:",omitzero"` // key id or key ARN
	PolicyName string `json:",omitzero"` // "default" (or empty)
}

// GetKeyPolicyOutput is the response of GetKeyPolicy.
type GetKeyPolicyOutput struct {
	Policy     string `json:",omitzero"`
	PolicyName string `json:",omitzero"`
}

// ListKeyPoliciesInput is the request of ListKeyPolicies.
type ListKeyPoliciesInput struct {
	KeyId  string `json:",omitzero"` // key id or key ARN
	Limit  *int32 `json:",omitzero"` // 1..1000, default 100
	Marker string `json:",omitzero"`
}

// ListKeyPoliciesOutput is the response of ListKeyPolicies.
type ListKeyPoliciesOutput struct {
	PolicyNames []string `json:",omitzero"`
	NextMarker  string   `json:",omitzero"`
	Truncated   bool
}
