# kmsd — see README.md.
SHELL       := /bin/bash
.SHELLFLAGS := -o pipefail -c
GO          ?= go
BIN         := bin
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Both binaries name the commit Go records in them (kmsd/internal/version;
# -buildvcs=auto here wins over a GOFLAGS that turns it off); VERSION=1.4.2
# make build names a release instead.
VERSION     ?=
LDFLAGS     := $(if $(VERSION),-X kmsd/internal/version.release=$(VERSION))

.PHONY: build run demo test test-long lint generate fuzz bench scale soak clean

## build: bin/kmsd and bin/kmsctl
build:
	$(GO) build -buildvcs=auto -ldflags "$(LDFLAGS)" -o $(BIN)/ ./cmd/kmsd ./cmd/kmsctl

## run: build, then run kmsd in the foreground on ./kmsd-state and ./kmsd.sock
run: build
	$(BIN)/kmsd --state-dir kmsd-state --socket kmsd.sock

## demo: start kmsd with its defaults in a temporary directory, walk
## create-key -> encrypt -> decrypt -> data key with kmsctl, stop it
demo: build
	@set -e; d=$$(mktemp -d); trap 'kill $$pid 2>/dev/null; wait $$pid 2>/dev/null; rm -rf $$d' EXIT; \
	$(BIN)/kmsd --state-dir $$d/state --socket $$d/kmsd.sock 2>$$d/kmsd.log & pid=$$!; \
	export KMSD_SOCKET=$$d/kmsd.sock; k="$(BIN)/kmsctl"; \
	$$k status --wait >/dev/null; \
	echo '$$ kmsctl status --query "[Suite, KeyCount]" --output text'; $$k status --query '[Suite, KeyCount]' --output text; \
	echo '$$ kmsctl create-key --description demo --query KeyMetadata.KeyId --output text'; \
	key=$$($$k create-key --description demo --query KeyMetadata.KeyId --output text); echo "$$key"; \
	echo '$$ kmsctl create-alias --alias-name alias/demo --target-key-id '"$$key"; $$k create-alias --alias-name alias/demo --target-key-id $$key; \
	printf 'hello, kms' > $$d/secret; \
	echo '$$ kmsctl encrypt --key-id alias/demo --plaintext fileb://secret --encryption-context app=demo --query CiphertextBlob --output text'; \
	$$k encrypt --key-id alias/demo --plaintext fileb://$$d/secret --encryption-context app=demo --query CiphertextBlob --output text | tee $$d/blob.b64; \
	base64 -d $$d/blob.b64 > $$d/blob; \
	echo '$$ kmsctl decrypt --ciphertext-blob fileb://blob --encryption-context app=demo --query Plaintext --output text | base64 -d'; \
	$$k decrypt --ciphertext-blob fileb://$$d/blob --encryption-context app=demo --query Plaintext --output text | base64 -d; echo; \
	echo '$$ kmsctl decrypt --ciphertext-blob fileb://blob --encryption-context app=other'; \
	$$k decrypt --ciphertext-blob fileb://$$d/blob --encryption-context app=other 2>&1 || true; \
	echo '$$ kmsctl generate-data-key --key-id alias/demo --key-spec AES_256 --query KeyMaterialId --output text'; \
	$$k generate-data-key --key-id alias/demo --key-spec AES_256 --query KeyMaterialId --output text; \
	echo "demo OK"

## test: vet, then every test with the race detector (fuzz seeds included), the
## AWS SDK's tests of the AWS endpoint (e2e/awssdk, a module of its own) and
## kube-apiserver's KMS v2 client against the plugin (e2e/k8s, another), and the
## fleet on a real three-member etcd cluster (e2e/fleet, a third).
## Independent tests run four at a time: most of e2e's wait on processes.
## With CI set, a test that would skip for want of something fails instead.
test:
	$(GO) vet ./...
	cd e2e/awssdk && $(GO) vet ./...
	cd e2e/k8s && $(GO) vet ./...
	cd e2e/fleet && $(GO) vet ./...
	$(GO) test -race -parallel 4 -timeout 9m ./...
	cd e2e/awssdk && $(GO) test -race -timeout 5m ./...
	cd e2e/k8s && $(GO) test -race -timeout 5m ./...
	cd e2e/fleet && $(GO) test -race -timeout 5m ./...

## test-long: the tests kept out of `make test` for time (XAES 1,000,000-iteration vector)
test-long:
	$(GO) test -run Accumulated ./keystore/xaes/ -args -long

## lint: formatting and staticcheck (go vet runs in make test)
lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) run $(STATICCHECK) ./...
	cd e2e/awssdk && $(GO) run $(STATICCHECK) ./...
	cd e2e/k8s && $(GO) run $(STATICCHECK) ./...
	cd e2e/fleet && $(GO) run $(STATICCHECK) ./...

## generate: the wire codec from the wire/api structs, and the client's methods,
## the daemon's handlers and kmsctl's commands from the operation table (tests
## fail when either is stale)
generate:
	$(GO) generate ./wire ./wire/api

## fuzz: run each fuzz target for FUZZTIME (default 30s)
FUZZTIME ?= 30s
fuzz:
	@for t in FuzzOpenBlob FuzzDecodeKeyRecord FuzzParseKeyID FuzzRestore; do \
		$(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) ./keystore/ || exit 1; done
	@for t in FuzzDecodeRequest FuzzDecodeResponse FuzzFrameSplit; do \
		$(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) ./wire/ || exit 1; done
	$(GO) test -run '^$$' -fuzz '^FuzzParseContext$$' -fuzztime $(FUZZTIME) ./fusefs/
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./wire/awsjson/
	$(GO) test -run '^$$' -fuzz '^FuzzVerify$$' -fuzztime $(FUZZTIME) ./daemon/awsapi/sigv4/
	$(GO) test -run '^$$' -fuzz '^FuzzUnwrap$$' -fuzztime $(FUZZTIME) ./keystore/kwp/
	$(GO) test -run '^$$' -fuzz '^FuzzPrinters$$' -fuzztime $(FUZZTIME) ./cmd/kmsctl/internal/render/

## bench: the throughput suite (bench/), a CPU profile of kmsd under batched
## Encrypt (bench/profile.sh), and kmsd's AWS endpoint and the peer (local-kms)
## driven by aws-sdk-go-v2 (bench/peer), in one run; raw output, the profile's top, table.md (targets first, beside
## before-hot-path.txt) and throughput.svg in bench/results/.
## BENCHTIME and COUNT set each benchmark's time and runs (medians of COUNT).
BENCHTIME    ?= 500ms
COUNT        ?= 5
PEER_VERSION := v0.0.0-20260228092603-2a5e92d09ab6
# scale: kmsd's CPU per item at 1, 2, 4, ... workers (bench/scale.sh).
scale:
	GO=$(GO) bash bench/scale.sh

bench:
	@mkdir -p bench/results
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) -count $(COUNT) -timeout 2h ./bench/ | tee bench/results/kmsd.txt
	GO=$(GO) bash bench/profile.sh bench/results | tee -a bench/results/kmsd.txt
	@GOBIN=$(CURDIR)/bench/.peer $(GO) install github.com/nsmithuk/local-kms@$(PEER_VERSION) || \
		echo "peer: local-kms could not be installed; the table has no peer figures"
	cd e2e/k8s && $(GO) test -run '^$$' -bench Plugin -benchtime $(BENCHTIME) -count $(COUNT) -timeout 30m . | tee ../../bench/results/k8s.txt
	cd e2e/fleet && $(GO) test -run '^$$' -bench Fleet -benchtime 200x -count $(COUNT) -timeout 30m . | tee ../../bench/results/fleet.txt
	cd bench/peer && LOCAL_KMS=$$(ls $(CURDIR)/bench/.peer/local-kms 2>/dev/null) $(GO) test -run '^$$' -bench . \
		-benchtime $(BENCHTIME) -count $(COUNT) -timeout 1h . | tee ../results/peer.txt
	$(GO) run ./bench/report -table bench/results/table.md -svg bench/results/throughput.svg \
		-before bench/results/before-hot-path.txt bench/results/kmsd.txt bench/results/peer.txt

## soak: the hostile mix of local users (idle connections, held frames,
## amplifying frames, non-readers, a failure flood, floods of the metrics
## and AWS TCP listeners, access-key and import floods, an admin trying
## to become root, kill -9 every 30 s)
## against one kmsd for DURATION, beside a well-behaved client; prints what
## that client saw and what kmsd held (as root)
DURATION ?= 10m
soak:
	KMSD_SOAK=$(DURATION) $(GO) test -count 1 -run '^TestSoak$$' -v -timeout 3h ./e2e/ | grep -E '^(=== RUN|--- |    soak|ok|FAIL|PASS)'

## clean: remove what make builds; a state directory (./kmsd-state) is
## kept, and said so: it holds the only copy of its keys
clean:
	rm -rf $(BIN) kmsd.sock bench/.peer
	@if [ -d kmsd-state ]; then echo "kept kmsd-state/: it holds keys. Back it up (bin/kmsctl backup --out FILE, and its root key) and remove it by hand if you mean to."; fi
