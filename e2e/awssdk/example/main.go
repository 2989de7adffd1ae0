// Command example is a program written for AWS KMS, with nothing of
// kmsd's in it: it loads the SDK's default configuration (the
// environment, ~/.aws) and encrypts or decrypts standard input. Pointed at
// kmsd by AWS_ENDPOINT_URL_KMS (and, on TCP, an access key kmsd issued),
// it runs against kmsd unchanged; the README shows it.
//
//	example encrypt KEY_ID < plaintext > blob
//	example decrypt < blob
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "example:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	c := kms.NewFromConfig(cfg)
	in, err := io.ReadAll(io.LimitReader(os.Stdin, 8<<10))
	if err != nil {
		return err
	}
	switch {
	case len(args) == 2 && args[0] == "encrypt":
		out, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(args[1]), Plaintext: in})
		if err != nil {
			return err
		}
		_, err = os.Stdout.Write(out.CiphertextBlob)
		return err
	case len(args) == 1 && args[0] == "decrypt":
		out, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: in})
		if err != nil {
			return err
		}
		_, err = os.Stdout.Write(out.Plaintext)
		return err
	}
	return fmt.Errorf("usage: example encrypt KEY_ID < plaintext, or example decrypt < blob")
}
