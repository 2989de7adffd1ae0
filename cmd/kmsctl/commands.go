package main

import (
	"strings"
	"time"

	"kmsd/wire/api"
)

// commands lists every subcommand, named as in `aws kms`: one per
// operation of the table (opCommands, generated from it), and kmsctl's
// own reading of the audit trail.
type commands struct {
	opCommands `embed:""`
	Audit      auditCmd `cmd:"" help:"Read and verify the audit trail."`
}

// Commands that share their flags (a key id, a custom key store id).
type (
	enableKeyCmd                       = keyCmd
	disableKeyCmd                      = keyCmd
	cancelKeyDeletionCmd               = keyCmd
	disableKeyRotationCmd              = keyCmd
	getKeyRotationStatusCmd            = keyCmd
	rotateKeyOnDemandCmd               = keyCmd
	getKeyLastUsageCmd                 = keyCmd
	createAliasCmd                     = aliasCmd
	updateAliasCmd                     = aliasCmd
	generateDataKeyWithoutPlaintextCmd = generateDataKeyCmd
	connectCustomKeyStoreCmd           = keyStoreCmd
	disconnectCustomKeyStoreCmd        = keyStoreCmd
	deleteCustomKeyStoreCmd            = keyStoreCmd
)

// opName turns a subcommand into its operation: create-key -> CreateKey.
func opName(command string) string {
	command, _, _ = strings.Cut(command, " ")
	var b strings.Builder
	for _, w := range strings.Split(command, "-") {
		if w != "" {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}

// call runs op with in and prints its response.
func call(e *env, op string, in api.Message) error {
	c, err := e.client()
	if err != nil {
		return err
	}
	out, err := c.Call(e.ctx, op, in)
	if err != nil {
		return err
	}
	return show(e.stdout, e.g, out)
}

type createAccessKeyCmd struct {
	Principal string `help:"Who the key's requests act as: uid:N (default: you). Root and the admin group may name anyone."`
}

func (c *createAccessKeyCmd) run(e *env) error {
	return call(e, api.OpCreateAccessKey, &api.CreateAccessKeyInput{Principal: c.Principal})
}

type listAccessKeysCmd struct {
	Principal string `help:"Only this principal's keys (uid:N)."`
}

func (c *listAccessKeysCmd) run(e *env) error {
	return call(e, api.OpListAccessKeys, &api.ListAccessKeysInput{Principal: c.Principal})
}

type deleteAccessKeyCmd struct {
	AccessKeyID string `name:"access-key-id" required:"" help:"The key to delete."`
}

func (c *deleteAccessKeyCmd) run(e *env) error {
	return call(e, api.OpDeleteAccessKey, &api.DeleteAccessKeyInput{AccessKeyId: c.AccessKeyID})
}

type rotateRootKeyCmd struct{}

func (rotateRootKeyCmd) run(e *env) error {
	return call(e, api.OpRotateRootKey, &api.RotateRootKeyInput{})
}

type statusCmd struct {
	Wait bool `help:"Wait for kmsd to answer (up to --timeout) instead of failing at once: how a script knows that a kmsd it just started serves."`
}

func (c statusCmd) run(e *env) error {
	if c.Wait {
		if err := e.waitForKmsd(); err != nil {
			return err
		}
	}
	cl, err := e.client()
	if err != nil {
		return err
	}
	out, err := cl.Status(e.ctx, &api.StatusInput{})
	if err != nil {
		return err
	}
	if e.g.Output == "text" && e.g.Query == "" {
		return showLabelled(e.stdout, out)
	}
	return show(e.stdout, e.g, out)
}

// waitForKmsd dials until kmsd answers or the command's time is up.
func (e *env) waitForKmsd() error {
	for {
		c, err := e.dial()
		if err == nil {
			e.c = c
			return nil
		}
		select {
		case <-e.ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// keyCmd is every command that takes only --key-id; the operation is the
// subcommand's name.
type keyCmd struct {
	KeyID string `name:"key-id" required:"" help:"Key id or key ARN."`
}

func (c *keyCmd) run(e *env) error { return call(e, e.op, &api.KeyIDInput{KeyId: c.KeyID}) }

type createKeyCmd struct {
	Description string `help:"A description of the key (file:// allowed)."`
	KeyUsage    string `help:"ENCRYPT_DECRYPT (the only usage kmsd has)."`
	KeySpec     string `help:"SYMMETRIC_DEFAULT (the only spec kmsd has)."`
	Origin      string `help:"AWS_KMS (material made by kmsd), EXTERNAL (imported later) or AWS_CLOUDHSM (with --custom-key-store-id)."`
	// CustomKeyStoreID keeps the key in a custom key store's token.
	CustomKeyStoreID string   `name:"custom-key-store-id" help:"Keep the key in this custom key store's token (its material never in kmsd)."`
	MultiRegion      bool     `negatable:"" help:"Not supported on one host."`
	Tags             []string `help:"TagKey=k,TagValue=v (repeatable) or a JSON list." sep:"none"`
	Policy           string   `help:"Key policy (JSON, or file://PATH); default: root, you and the admin group."`

	BypassPolicyLockoutSafetyCheck bool `negatable:"" help:"Accept a policy that will not let you change it later."`
}

func (c *createKeyCmd) run(e *env) error {
	desc, err := readText("description", c.Description)
	if err != nil {
		return usageError{err}
	}
	tags, err := readTags(c.Tags)
	if err != nil {
		return usageError{err}
	}
	pol, err := readText("policy", c.Policy)
	if err != nil {
		return usageError{err}
	}
	return call(e, api.OpCreateKey, &api.CreateKeyInput{Description: desc, KeyUsage: c.KeyUsage,
		KeySpec: c.KeySpec, Origin: c.Origin, MultiRegion: c.MultiRegion, Tags: tags,
		Policy: pol, BypassPolicyLockoutSafetyCheck: c.BypassPolicyLockoutSafetyCheck, CustomKeyStoreId: c.CustomKeyStoreID})
}

type describeKeyCmd struct {
	KeyID       string   `name:"key-id" required:"" help:"Key id, key ARN, alias name or alias ARN."`
	GrantTokens []string `help:"Grant tokens."`
}

func (c *describeKeyCmd) run(e *env) error {
	return call(e, api.OpDescribeKey, &api.DescribeKeyInput{KeyId: c.KeyID, GrantTokens: c.GrantTokens})
}

type updateKeyDescriptionCmd struct {
	KeyID       string `name:"key-id" required:""`
	Description string `required:""`
}

func (c *updateKeyDescriptionCmd) run(e *env) error {
	desc, err := readText("description", c.Description)
	if err != nil {
		return usageError{err}
	}
	return call(e, api.OpUpdateKeyDescription, &api.UpdateKeyDescriptionInput{KeyId: c.KeyID, Description: desc})
}

type scheduleKeyDeletionCmd struct {
	KeyID               string `name:"key-id" required:""`
	PendingWindowInDays *int32 `help:"7 to 30 days (default 30)."`
}

func (c *scheduleKeyDeletionCmd) run(e *env) error {
	return call(e, api.OpScheduleKeyDeletion, &api.ScheduleKeyDeletionInput{KeyId: c.KeyID, PendingWindowInDays: c.PendingWindowInDays})
}

type encryptCmd struct {
	KeyID               string   `name:"key-id" required:""`
	Plaintext           string   `required:"" help:"fileb://PATH or base64."`
	EncryptionContext   string   `help:"k=v,k2=v2 or JSON."`
	GrantTokens         []string `help:"Grant tokens."`
	EncryptionAlgorithm string   `help:"SYMMETRIC_DEFAULT."`
}

func (c *encryptCmd) run(e *env) error {
	pt, err := readBlob("plaintext", c.Plaintext)
	if err != nil {
		return usageError{err}
	}
	defer clear(pt)
	ec, err := readContext("encryption-context", c.EncryptionContext)
	if err != nil {
		return usageError{err}
	}
	return call(e, api.OpEncrypt, &api.EncryptInput{KeyId: c.KeyID, Plaintext: pt, EncryptionContext: ec,
		GrantTokens: c.GrantTokens, EncryptionAlgorithm: c.EncryptionAlgorithm})
}

type decryptCmd struct {
	CiphertextBlob      string   `required:"" help:"fileb://PATH or base64."`
	EncryptionContext   string   `help:"k=v,k2=v2 or JSON."`
	KeyID               string   `name:"key-id" help:"If given, the blob's key must be this one."`
	GrantTokens         []string `help:"Grant tokens."`
	EncryptionAlgorithm string   `help:"SYMMETRIC_DEFAULT."`
}

func (c *decryptCmd) run(e *env) error {
	blob, err := readBlob("ciphertext-blob", c.CiphertextBlob)
	if err != nil {
		return usageError{err}
	}
	ec, err := readContext("encryption-context", c.EncryptionContext)
	if err != nil {
		return usageError{err}
	}
	return call(e, api.OpDecrypt, &api.DecryptInput{CiphertextBlob: blob, EncryptionContext: ec, KeyId: c.KeyID,
		GrantTokens: c.GrantTokens, EncryptionAlgorithm: c.EncryptionAlgorithm})
}

type reEncryptCmd struct {
	CiphertextBlob                 string   `required:""`
	SourceEncryptionContext        string   ``
	SourceKeyID                    string   `name:"source-key-id"`
	DestinationKeyID               string   `name:"destination-key-id" required:""`
	DestinationEncryptionContext   string   ``
	SourceEncryptionAlgorithm      string   ``
	DestinationEncryptionAlgorithm string   ``
	GrantTokens                    []string ``
}

func (c *reEncryptCmd) run(e *env) error {
	blob, err := readBlob("ciphertext-blob", c.CiphertextBlob)
	if err != nil {
		return usageError{err}
	}
	src, err := readContext("source-encryption-context", c.SourceEncryptionContext)
	if err != nil {
		return usageError{err}
	}
	dst, err := readContext("destination-encryption-context", c.DestinationEncryptionContext)
	if err != nil {
		return usageError{err}
	}
	return call(e, api.OpReEncrypt, &api.ReEncryptInput{CiphertextBlob: blob, SourceEncryptionContext: src,
		SourceKeyId: c.SourceKeyID, DestinationKeyId: c.DestinationKeyID, DestinationEncryptionContext: dst,
		SourceEncryptionAlgorithm: c.SourceEncryptionAlgorithm, DestinationEncryptionAlgorithm: c.DestinationEncryptionAlgorithm,
		GrantTokens: c.GrantTokens})
}

type generateDataKeyCmd struct {
	KeyID             string   `name:"key-id" required:""`
	KeySpec           string   `help:"AES_256 or AES_128."`
	NumberOfBytes     *int32   `help:"1 to 1024."`
	EncryptionContext string   `help:"k=v,k2=v2 or JSON."`
	GrantTokens       []string `help:"Grant tokens."`
}

func (c *generateDataKeyCmd) run(e *env) error {
	ec, err := readContext("encryption-context", c.EncryptionContext)
	if err != nil {
		return usageError{err}
	}
	return call(e, e.op, &api.GenerateDataKeyInput{KeyId: c.KeyID, KeySpec: c.KeySpec, NumberOfBytes: c.NumberOfBytes,
		EncryptionContext: ec, GrantTokens: c.GrantTokens})
}

type generateRandomCmd struct {
	NumberOfBytes *int32 `required:"" help:"1 to 1024."`
}

func (c *generateRandomCmd) run(e *env) error {
	return call(e, api.OpGenerateRandom, &api.GenerateRandomInput{NumberOfBytes: c.NumberOfBytes})
}

type aliasCmd struct {
	AliasName   string `required:"" help:"alias/NAME."`
	TargetKeyID string `name:"target-key-id" required:"" help:"Key id or key ARN."`
}

func (c *aliasCmd) run(e *env) error {
	return call(e, e.op, &api.AliasInput{AliasName: c.AliasName, TargetKeyId: c.TargetKeyID})
}

type deleteAliasCmd struct {
	AliasName string `required:""`
}

func (c *deleteAliasCmd) run(e *env) error {
	return call(e, api.OpDeleteAlias, &api.DeleteAliasInput{AliasName: c.AliasName})
}

type tagResourceCmd struct {
	KeyID string   `name:"key-id" required:""`
	Tags  []string `required:"" help:"TagKey=k,TagValue=v (repeatable) or a JSON list." sep:"none"`
}

func (c *tagResourceCmd) run(e *env) error {
	tags, err := readTags(c.Tags)
	if err != nil {
		return usageError{err}
	}
	return call(e, api.OpTagResource, &api.TagResourceInput{KeyId: c.KeyID, Tags: tags})
}

type untagResourceCmd struct {
	KeyID   string   `name:"key-id" required:""`
	TagKeys []string `required:"" help:"Tag keys (repeatable) or a JSON list." sep:"none"`
}

func (c *untagResourceCmd) run(e *env) error {
	keys, err := readList("tag-keys", c.TagKeys)
	if err != nil {
		return usageError{err}
	}
	return call(e, api.OpUntagResource, &api.UntagResourceInput{KeyId: c.KeyID, TagKeys: keys})
}

type enableKeyRotationCmd struct {
	KeyID                string `name:"key-id" required:""`
	RotationPeriodInDays *int32 `help:"90 to 2560 (default 365)."`
}

func (c *enableKeyRotationCmd) run(e *env) error {
	return call(e, api.OpEnableKeyRotation, &api.EnableKeyRotationInput{KeyId: c.KeyID, RotationPeriodInDays: c.RotationPeriodInDays})
}
