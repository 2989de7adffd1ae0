package api

// PutKeyPolicyInput is the request of PutKeyPolicy.
type PutKeyPolicyInput struct {
	KeyId                          string `json:",omitzero"`
	PolicyName                     string `json:",omitzero"` // "default" (or empty)
	Policy                         string `json:",omitzero"`
	BypassPolicyLockoutSafetyCheck bool   `json:",omitzero"`
}

// GetKeyPolicyInput is the request of GetKeyPolicy.
type GetKeyPolicyInput struct {
	KeyId      string `json:",omitzero"`
	PolicyName string `json:",omitzero"`
}

// GetKeyPolicyOutput is the response of GetKeyPolicy.
type GetKeyPolicyOutput struct {
	Policy     string `json:",omitzero"`
	PolicyName string `json:",omitzero"`
}

// ListKeyPoliciesInput is the request of ListKeyPolicies.
type ListKeyPoliciesInput struct {
	KeyId  string `json:",omitzero"`
	Limit  *int32 `json:",omitzero"` // 1..1000, default 100
	Marker string `json:",omitzero"`
}

// ListKeyPoliciesOutput is the response of ListKeyPolicies.
type ListKeyPoliciesOutput struct {
	PolicyNames []string `json:",omitzero"`
	NextMarker  string   `json:",omitzero"`
	Truncated   bool
}
