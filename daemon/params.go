package daemon

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"kmsd/daemon/audit"
	"kmsd/daemon/kms"
	"kmsd/wire/api"
)

// params puts into a management request's record what it created or
// changed, as CloudTrail's requestParameters and responseElements do: the
// new key, the alias, the grant's grantee, operations and constraints, a
// policy's digest. A grant is named by its id, never by a token; long
// values are recorded by digest (audit.Event.Params).
func params(ev *audit.Event, in, out api.Message) {
	p := map[string]string{}
	switch v := in.(type) {
	case *api.CreateKeyInput:
		if o, ok := out.(*api.KeyMetadataOutput); ok {
			ev.KeyID = o.KeyMetadata.KeyId
		}
		set(p, "description", v.Description)
		set(p, "key_usage", v.KeyUsage)
		set(p, "key_spec", v.KeySpec)
		set(p, "origin", v.Origin)
		set(p, "policy", digest(v.Policy))
		set(p, "tag_keys", tagKeys(v.Tags))
		set(p, "custom_key_store_id", v.CustomKeyStoreId)
	case *api.AliasInput:
		ev.Alias = v.AliasName
		set(p, "target_key_id", v.TargetKeyId)
	case *api.DeleteAliasInput:
		ev.Alias = v.AliasName
	case *api.CreateGrantInput:
		set(p, "grantee_principal", v.GranteePrincipal)
		set(p, "retiring_principal", v.RetiringPrincipal)
		set(p, "operations", strings.Join(v.Operations, ","))
		set(p, "name", v.Name)
		set(p, "constraints", constraints(v.Constraints))
		if o, ok := out.(*api.CreateGrantOutput); ok {
			set(p, "grant_id", o.GrantId)
		}
	case *api.RetireGrantInput:
		set(p, "grant_id", v.GrantId)
		if v.GrantToken != "" {
			set(p, "grant_id", grantIDOfToken(v.GrantToken))
		}
	case *api.RevokeGrantInput:
		set(p, "grant_id", v.GrantId)
	case *api.PutKeyPolicyInput:
		set(p, "policy_name", v.PolicyName)
		set(p, "policy", digest(v.Policy))
	case *api.UpdateKeyDescriptionInput:
		set(p, "description", v.Description)
	case *api.TagResourceInput:
		set(p, "tag_keys", tagKeys(v.Tags))
	case *api.UntagResourceInput:
		set(p, "tag_keys", strings.Join(v.TagKeys, ","))
	case *api.ScheduleKeyDeletionInput:
		if o, ok := out.(*api.ScheduleKeyDeletionOutput); ok {
			set(p, "deletion_date", o.DeletionDate.UTC().Format(time.RFC3339))
			if o.PendingWindowInDays != nil {
				set(p, "pending_window_in_days", strconv.Itoa(int(*o.PendingWindowInDays)))
			}
		}
	case *api.EnableKeyRotationInput:
		if v.RotationPeriodInDays != nil {
			set(p, "rotation_period_in_days", strconv.Itoa(int(*v.RotationPeriodInDays)))
		}
	case *api.CreateAccessKeyInput: // the id and principal; never the secret
		set(p, "principal", v.Principal)
		if o, ok := out.(*api.CreateAccessKeyOutput); ok {
			set(p, "access_key_id", o.AccessKey.AccessKeyId)
			set(p, "principal", o.AccessKey.UserName)
		}
	case *api.DeleteAccessKeyInput:
		set(p, "access_key_id", v.AccessKeyId)
	case *api.GetParametersForImportInput: // never the token or the wrapping key
		set(p, "wrapping_algorithm", v.WrappingAlgorithm)
		set(p, "wrapping_key_spec", v.WrappingKeySpec)
	case *api.CreateCustomKeyStoreInput: // the PIN file's path, never the PIN
		set(p, "name", v.CustomKeyStoreName)
		set(p, "module", v.Pkcs11Module)
		set(p, "token_label", v.TokenLabel)
		set(p, "token_serial", v.TokenSerial)
		set(p, "pin_file", v.KeyStorePasswordFile)
		if o, ok := out.(*api.CreateCustomKeyStoreOutput); ok {
			set(p, "custom_key_store_id", o.CustomKeyStoreId)
		}
	case *api.UpdateCustomKeyStoreInput:
		set(p, "custom_key_store_id", v.CustomKeyStoreId)
		set(p, "name", v.NewCustomKeyStoreName)
		set(p, "module", v.Pkcs11Module)
		set(p, "pin_file", v.KeyStorePasswordFile)
	case *api.CustomKeyStoreIDInput:
		set(p, "custom_key_store_id", v.CustomKeyStoreId)
	case *api.ImportKeyMaterialInput: // never the token or the material
		set(p, "expiration_model", v.ExpirationModel)
		if v.ValidTo != nil {
			set(p, "valid_to", v.ValidTo.UTC().Format(time.RFC3339))
		}
	}
	if len(p) > 0 {
		ev.Params = p
	}
}

func set(p map[string]string, k, v string) {
	if v != "" {
		p[k] = v
	}
}

// digest is "sha256:" and the hex SHA-256 of a document, or "" for none.
func digest(doc string) string {
	if doc == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(doc))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func tagKeys(tags []api.Tag) string {
	keys := make([]string, len(tags))
	for i, t := range tags {
		keys[i] = t.TagKey
	}
	return strings.Join(keys, ",")
}

// constraints is a grant's constraints as JSON, or "" for none.
func constraints(c api.GrantConstraints) string {
	if len(c.EncryptionContextEquals) == 0 && len(c.EncryptionContextSubset) == 0 {
		return ""
	}
	b, _ := json.Marshal(c)
	return string(b)
}

// grantIDOfToken is the grant id a grant token names, or "": the grant
// is recorded by its id, not by the token.
func grantIDOfToken(token string) string {
	id, _ := kms.GrantIDOfToken(token)
	return id
}
