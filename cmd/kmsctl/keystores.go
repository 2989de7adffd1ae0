package main

import "kmsd/wire/api"

// Custom key stores (keys kept in a PKCS#11 token), with the aws CLI's
// command names; kmsd's store is a PKCS#11 token instead of a CloudHSM
// cluster, so its flags name a module, a token and a PIN file.

type createCustomKeyStoreCmd struct {
	CustomKeyStoreName   string `required:"" help:"A name, unique among the stores."`
	CustomKeyStoreType   string `help:"PKCS11 (the default; kmsd's only type)."`
	Pkcs11Module         string `name:"pkcs11-module" required:"" help:"The PKCS#11 module's absolute path."`
	TokenLabel           string `help:"The token's label."`
	TokenSerial          string `help:"The token's serial (instead of, or beside, its label)."`
	KeyStorePasswordFile string `required:"" help:"The absolute path of a file holding the token's PIN (mode 0600), or credential:NAME; the PIN itself is never given."`
}

func (c *createCustomKeyStoreCmd) run(e *env) error {
	return call(e, api.OpCreateCustomKeyStore, &api.CreateCustomKeyStoreInput{CustomKeyStoreName: c.CustomKeyStoreName,
		CustomKeyStoreType: c.CustomKeyStoreType, Pkcs11Module: c.Pkcs11Module, TokenLabel: c.TokenLabel,
		TokenSerial: c.TokenSerial, KeyStorePasswordFile: c.KeyStorePasswordFile})
}

type describeCustomKeyStoresCmd struct {
	CustomKeyStoreID   string `name:"custom-key-store-id" help:"Only this store."`
	CustomKeyStoreName string `help:"Only the store of this name."`
}

func (c *describeCustomKeyStoresCmd) run(e *env) error {
	return call(e, api.OpDescribeCustomKeyStores, &api.DescribeCustomKeyStoresInput{CustomKeyStoreId: c.CustomKeyStoreID,
		CustomKeyStoreName: c.CustomKeyStoreName})
}

type updateCustomKeyStoreCmd struct {
	CustomKeyStoreID      string `name:"custom-key-store-id" required:""`
	NewCustomKeyStoreName string `help:"A new name."`
	Pkcs11Module          string `name:"pkcs11-module" help:"Another module (disconnected stores only)."`
	TokenLabel            string `help:"Another token, by label (disconnected stores only)."`
	TokenSerial           string `help:"Another token, by serial (disconnected stores only)."`
	KeyStorePasswordFile  string `help:"Another PIN file (disconnected stores only)."`
}

func (c *updateCustomKeyStoreCmd) run(e *env) error {
	return call(e, api.OpUpdateCustomKeyStore, &api.UpdateCustomKeyStoreInput{CustomKeyStoreId: c.CustomKeyStoreID,
		NewCustomKeyStoreName: c.NewCustomKeyStoreName, Pkcs11Module: c.Pkcs11Module, TokenLabel: c.TokenLabel,
		TokenSerial: c.TokenSerial, KeyStorePasswordFile: c.KeyStorePasswordFile})
}

// keyStoreCmd is a command that takes only a store: connect, disconnect,
// delete.
type keyStoreCmd struct {
	CustomKeyStoreID string `name:"custom-key-store-id" required:""`
}

func (c *keyStoreCmd) run(e *env) error {
	return call(e, e.op, &api.CustomKeyStoreIDInput{CustomKeyStoreId: c.CustomKeyStoreID})
}
