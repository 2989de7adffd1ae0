package api

// opList is the table of operations (see OpSpec). Adding an operation is
// an entry here, its handler (a method of the key service or the server)
// and its tests; `go generate ./wire/api` writes what follows from it.
//
//go:generate go run ../../internal/opsgen
var opList = []OpSpec{
	op[HelloInput, HelloOutput](OpHello, "Open a connection: protocol version, server version, suite, CPU features and limits.",
		own, byConnection, noCommand, internal),
	op[StatusInput, StatusOutput](OpStatus, "Show kmsd's version, suite, CPU features, key count, uptime and queue depth.",
		own, byConnection, ownCommand),

	op[CreateKeyInput, KeyMetadataOutput](OpCreateKey, "Create a symmetric key.",
		params(out("key_id", "KeyMetadata.KeyId"), in("description", "Description"), in("key_usage", "KeyUsage"),
			in("key_spec", "KeySpec"), in("origin", "Origin"), in("policy", "Policy", Digest), in("tag_keys", "Tags", Names),
			in("custom_key_store_id", "CustomKeyStoreId"))),
	op[DescribeKeyInput, KeyMetadataOutput](OpDescribeKey, "Show a key's metadata.", states(anyState), required("KeyId")),
	op[ListKeysInput, ListKeysOutput](OpListKeys, "List keys."),
	op[UpdateKeyDescriptionInput, Empty](OpUpdateKeyDescription, "Replace a key's description.",
		params(in("description", "Description")), states(notPendingDeletion), required("KeyId", "Description")),
	op[KeyIDInput, Empty](OpEnableKey, "Enable a key.", states(enablement), required("KeyId")),
	op[KeyIDInput, Empty](OpDisableKey, "Disable a key.", states(enablement), required("KeyId")),
	op[ScheduleKeyDeletionInput, ScheduleKeyDeletionOutput](OpScheduleKeyDeletion, "Delete a key after a waiting period of 7 to 30 days.",
		params(out("deletion_date", "DeletionDate", Time), out("pending_window_in_days", "PendingWindowInDays")), states(notPendingDeletion), required("KeyId")),
	op[KeyIDInput, KeyIDOutput](OpCancelKeyDeletion, "Cancel a scheduled deletion (the key comes back disabled).", states(onlyPending), required("KeyId")),

	op[AliasInput, Empty](OpCreateAlias, "Create an alias for a key.",
		params(in("alias", "AliasName"), in("target_key_id", "TargetKeyId")), states(notPendingDeletion), required("AliasName", "TargetKeyId")),
	op[AliasInput, Empty](OpUpdateAlias, "Point an alias at another key.",
		params(in("alias", "AliasName"), in("target_key_id", "TargetKeyId")), states(notPendingDeletion), required("AliasName", "TargetKeyId")),
	op[DeleteAliasInput, Empty](OpDeleteAlias, "Delete an alias.", params(in("alias", "AliasName")), states(anyState), required("AliasName")),
	op[ListAliasesInput, ListAliasesOutput](OpListAliases, "List aliases.", states(anyState)),

	op[TagResourceInput, Empty](OpTagResource, "Add or replace tags on a key.", params(in("tag_keys", "Tags", Names)), states(notPendingDeletion), required("KeyId", "Tags")),
	op[UntagResourceInput, Empty](OpUntagResource, "Remove tags from a key.", params(in("tag_keys", "TagKeys", Names)), states(notPendingDeletion), required("KeyId", "TagKeys")),
	op[ListResourceTagsInput, ListResourceTagsOutput](OpListResourceTags, "List a key's tags.", states(anyState), required("KeyId")),

	op[EncryptInput, EncryptOutput](OpEncrypt, "Encrypt up to 4096 bytes.", batch, crypto, wipeInput("Plaintext"), states(usable), keyUse, required("KeyId", "Plaintext")),
	op[DecryptInput, DecryptOutput](OpDecrypt, "Decrypt a ciphertext blob.", batch, crypto, wipeOutput("Plaintext"), states(usable), keyUse, required("CiphertextBlob")),
	op[ReEncryptInput, ReEncryptOutput](OpReEncrypt, "Re-encrypt a blob under another key or context, inside kmsd.", batch, crypto, states(usable), keyUse, required("CiphertextBlob", "DestinationKeyId")),
	op[GenerateDataKeyInput, GenerateDataKeyOutput](OpGenerateDataKey, "Make a data key: plaintext and encrypted.",
		batch, crypto, wipeOutput("Plaintext"), states(usable), keyUse, required("KeyId")),
	op[GenerateDataKeyInput, GenerateDataKeyOutput](OpGenerateDataKeyWithoutPlaintext, "Make a data key: encrypted only.",
		batch, crypto, wipeOutput("Plaintext"), states(usable), keyUse, required("KeyId")),
	op[SignInput, SignOutput](OpSign, "Sign a message (RAW) or its digest (DIGEST) with a SIGN_VERIFY key.",
		batch, crypto, states(usable), keyUse, required("KeyId", "Message", "SigningAlgorithm"), params(signParams...)),
	op[VerifyInput, VerifyOutput](OpVerify, "Verify a signature with a SIGN_VERIFY key (KMSInvalidSignatureException if it does not verify).",
		batch, crypto, states(usable), keyUse, required("KeyId", "Message", "Signature", "SigningAlgorithm"), params(signParams...)),
	op[GetPublicKeyInput, GetPublicKeyOutput](OpGetPublicKey, "Get an asymmetric key's public key (DER SubjectPublicKeyInfo) and its algorithms.",
		states(usable), required("KeyId")),
	op[GenerateMacInput, GenerateMacOutput](OpGenerateMac, "Compute the HMAC of a message with a GENERATE_VERIFY_MAC key.",
		batch, crypto, states(usable), keyUse, required("KeyId", "Message", "MacAlgorithm"), params(macParams...)),
	op[VerifyMacInput, VerifyMacOutput](OpVerifyMac, "Verify an HMAC with a GENERATE_VERIFY_MAC key (KMSInvalidMacException if it does not verify).",
		batch, crypto, states(usable), keyUse, required("KeyId", "Message", "Mac", "MacAlgorithm"), params(macParams...)),
	op[DeriveSharedSecretInput, DeriveSharedSecretOutput](OpDeriveSharedSecret, "Derive the raw ECDH shared secret of a KEY_AGREEMENT key and a peer's public key.",
		crypto, wipeOutput("SharedSecret"), states(usable), keyUse, required("KeyId", "KeyAgreementAlgorithm", "PublicKey"),
		params(in("key_agreement_algorithm", "KeyAgreementAlgorithm"), in("public_key", "PublicKey", Digest), in("dry_run", "DryRun"))),
	op[GenerateDataKeyPairInput, GenerateDataKeyPairOutput](OpGenerateDataKeyPair, "Make a key pair: the public key, and the private key in plaintext and encrypted.",
		wipeOutput("PrivateKeyPlaintext"), states(usable), keyUse, required("KeyId", "KeyPairSpec"), params(pairParams...)),
	op[GenerateDataKeyPairInput, GenerateDataKeyPairOutput](OpGenerateDataKeyPairWithoutPlaintext, "Make a key pair: the public key, and the private key encrypted only.",
		wipeOutput("PrivateKeyPlaintext"), states(usable), keyUse, required("KeyId", "KeyPairSpec"), params(pairParams...)),

	op[GenerateRandomInput, GenerateRandomOutput](OpGenerateRandom, "Random bytes from kmsd.", crypto, wipeOutput("Plaintext"), required("NumberOfBytes")),

	op[EnableKeyRotationInput, Empty](OpEnableKeyRotation, "Turn on automatic rotation.",
		params(in("rotation_period_in_days", "RotationPeriodInDays")), states(rotation), required("KeyId")),
	op[KeyIDInput, Empty](OpDisableKeyRotation, "Turn off automatic rotation.", states(rotation), required("KeyId")),
	op[KeyIDInput, GetKeyRotationStatusOutput](OpGetKeyRotationStatus, "Show a key's automatic rotation.", states(anyState), required("KeyId")),
	op[KeyIDInput, KeyIDOutput](OpRotateKeyOnDemand, "Rotate a key's material now.", states(usable), required("KeyId")),
	op[ListKeyRotationsInput, ListKeyRotationsOutput](OpListKeyRotations, "List a key's rotations.", states(anyState), required("KeyId")),

	op[PutKeyPolicyInput, Empty](OpPutKeyPolicy, "Replace a key's policy.",
		params(in("policy_name", "PolicyName"), in("policy", "Policy", Digest)), states(anyState), required("KeyId", "Policy")),
	op[GetKeyPolicyInput, GetKeyPolicyOutput](OpGetKeyPolicy, "Show a key's policy.", states(anyState), required("KeyId")),
	op[ListKeyPoliciesInput, ListKeyPoliciesOutput](OpListKeyPolicies, "List a key's policy names (always default).", states(anyState), required("KeyId")),

	op[CreateGrantInput, CreateGrantOutput](OpCreateGrant, "Give a principal some operations on a key.",
		params(in("grantee_principal", "GranteePrincipal"), in("retiring_principal", "RetiringPrincipal"),
			in("operations", "Operations", Names), in("name", "Name"), in("constraints", "Constraints", JSON),
			out("grant_id", "GrantId")), states(usable), required("KeyId", "GranteePrincipal", "Operations")),
	op[ListGrantsInput, ListGrantsOutput](OpListGrants, "List a key's grants.", states(anyState), required("KeyId")),
	op[ListRetirableGrantsInput, ListGrantsOutput](OpListRetirableGrants, "List the grants a principal may retire.", required("RetiringPrincipal")),
	op[RetireGrantInput, Empty](OpRetireGrant, "Retire a grant (its retiring principal, or its grantee).",
		params(in("grant_id", "GrantId"), in("grant_id", "GrantToken", GrantOfToken)), states(anyState)),
	op[RevokeGrantInput, Empty](OpRevokeGrant, "Revoke a grant (a key administrator).", params(in("grant_id", "GrantId")), states(anyState), required("KeyId", "GrantId")),

	op[KeyIDInput, GetKeyLastUsageOutput](OpGetKeyLastUsage, "Show a key's last successful cryptographic use.", byServer, states(anyState), required("KeyId")),
	op[GetUsageInput, GetUsageOutput](OpGetUsage, "Requests by key and principal over a recent window (your own; root sees all).",
		own, byServer, command("Usage")),
	op[VerifyAuditCheckpointsInput, VerifyAuditCheckpointsOutput](OpVerifyAuditCheckpoints,
		"Check audit checkpoints against kmsd's store (kmsctl audit verify).", own, admins, byServer, noCommand),
	op[CreateBackupInput, CreateBackupOutput](OpCreateBackup, "Write a backup of kmsd's keys, aliases, grants and policies: a consistent snapshot taken while kmsd serves, sealed under the root key (root or the admin group).",
		own, admins, byServer, command("Backup"), ownCommand),
	op[GetBackupPartInput, GetBackupPartOutput](OpGetBackupPart, "Read a part of a backup CreateBackup began (kmsctl backup).",
		own, admins, byServer, noCommand),
	op[RotateRootKeyInput, RotateRootKeyOutput](OpRotateRootKey, "Re-seal every key under a new root key, online and crash-safe; the old root key is kept as root-key.old.N until kmsd forget-root-key removes it (root only; docs/operations.md).",
		own, rootOnly, byServer),

	op[GetParametersForImportInput, GetParametersForImportOutput](OpGetParametersForImport, "Get a wrapping key and an import token for an EXTERNAL key (valid 24 hours).", costly,
		params(in("wrapping_algorithm", "WrappingAlgorithm"), in("wrapping_key_spec", "WrappingKeySpec")), states(notPendingDeletion), required("KeyId", "WrappingAlgorithm", "WrappingKeySpec")),
	op[ImportKeyMaterialInput, ImportKeyMaterialOutput](OpImportKeyMaterial, "Import wrapped key material into an EXTERNAL key.",
		params(in("expiration_model", "ExpirationModel"), in("valid_to", "ValidTo", Time)), states(notPendingDeletion), required("KeyId", "ImportToken", "EncryptedKeyMaterial")),
	op[DeleteImportedKeyMaterialInput, DeleteImportedKeyMaterialOutput](OpDeleteImportedKeyMaterial, "Delete an EXTERNAL key's material: it is PendingImport until the same material is imported again.", states(notPendingDeletion), required("KeyId")),

	op[CreateCustomKeyStoreInput, CreateCustomKeyStoreOutput](OpCreateCustomKeyStore, "Add a custom key store: keys kept in a PKCS#11 token (root only: its module runs inside kmsd).",
		rootOnly, params(in("name", "CustomKeyStoreName"), in("module", "Pkcs11Module"), in("token_label", "TokenLabel"),
			in("token_serial", "TokenSerial"), in("pin_file", "KeyStorePasswordFile"), out("custom_key_store_id", "CustomKeyStoreId")), required("CustomKeyStoreName", "Pkcs11Module", "KeyStorePasswordFile")),
	op[DescribeCustomKeyStoresInput, DescribeCustomKeyStoresOutput](OpDescribeCustomKeyStores, "List custom key stores and their connection state."),
	op[UpdateCustomKeyStoreInput, Empty](OpUpdateCustomKeyStore, "Rename a custom key store, or (disconnected) change its module, token or PIN file.",
		admins, params(in("custom_key_store_id", "CustomKeyStoreId"), in("name", "NewCustomKeyStoreName"),
			in("module", "Pkcs11Module"), in("pin_file", "KeyStorePasswordFile")), required("CustomKeyStoreId")),
	op[CustomKeyStoreIDInput, Empty](OpConnectCustomKeyStore, "Connect a custom key store to its token (describe-custom-key-stores shows the outcome).",
		admins, params(in("custom_key_store_id", "CustomKeyStoreId")), required("CustomKeyStoreId")),
	op[CustomKeyStoreIDInput, Empty](OpDisconnectCustomKeyStore, "Disconnect a custom key store: its keys are refused until it is connected again.",
		admins, params(in("custom_key_store_id", "CustomKeyStoreId")), required("CustomKeyStoreId")),
	op[CustomKeyStoreIDInput, Empty](OpDeleteCustomKeyStore, "Delete a disconnected custom key store that holds no keys.",
		admins, params(in("custom_key_store_id", "CustomKeyStoreId")), required("CustomKeyStoreId")),

	op[CreateAccessKeyInput, CreateAccessKeyOutput](OpCreateAccessKey, "Issue an access key for kmsd's AWS endpoint on TCP (kmsd --aws-listen tcp:...), acting as a principal; the secret is shown once (docs/aws-endpoint.md).",
		own, byServer, params(in("principal", "Principal"), out("access_key_id", "AccessKey.AccessKeyId"), out("principal", "AccessKey.UserName"))),
	op[ListAccessKeysInput, ListAccessKeysOutput](OpListAccessKeys, "List access keys (yours; root and the admin group see all).", own, byServer),
	op[DeleteAccessKeyInput, Empty](OpDeleteAccessKey, "Delete an access key: requests signed with it are refused from then on.",
		own, byServer, params(in("access_key_id", "AccessKeyId")), required("AccessKeyId")),
}

// What the audit records of the asymmetric and HMAC operations keep: the
// algorithm, and the message by its digest, never the message.
var (
	signParams = []Param{in("signing_algorithm", "SigningAlgorithm"), in("message_type", "MessageType"),
		in("message", "Message", Digest), in("dry_run", "DryRun")}
	macParams  = []Param{in("mac_algorithm", "MacAlgorithm"), in("message", "Message", Digest), in("dry_run", "DryRun")}
	pairParams = []Param{in("key_pair_spec", "KeyPairSpec"), in("dry_run", "DryRun")}
)
