# kmsd — see README.md.
GO          ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: build test test-long lint fuzz clean

## build: compile every package
build:
	$(GO) build ./...

## test: vet, then every test with the race detector (fuzz seeds included)
test:
	$(GO) vet ./...
	$(GO) test -race -timeout 9m ./...

## test-long: the tests kept out of `make test` for time (XAES 1,000,000-iteration vector)
test-long:
	$(GO) test -run Accumulated ./keystore/xaes/ -args -long

## lint: formatting, vet and staticcheck
lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

## fuzz: run each fuzz target for FUZZTIME (default 30s)
FUZZTIME ?= 30s
fuzz:
	@for t in FuzzOpenBlob FuzzDecodeKeyRecord FuzzParseKeyID; do \
		$(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) ./keystore/ || exit 1; done

clean:
	rm -rf bin
