#!/usr/bin/env bash
# Rebuilds fuzz/corpus from real material and the synthetic seeds. Run it after adding a seed source; commit what
# it writes. Needs openssl and the .NET SDK (for `identity-fuzz seed`). Deterministic only in shape: keys are new.
set -euo pipefail
cd "$(dirname "$0")/../.."
step=tests/testdata/step
out=fuzz/corpus
rm -rf "$out"
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The synthetic seeds: the test suite's hostile shapes, valid handler requests, tokens, issuers, durations, times.
dotnet run --project fuzz/Identity.Fuzz -c Release -- seed "$out" >/dev/null

put() { mkdir -p "$out/$1"; cp "$2" "$out/$1/$3"; }

# step's own output (tests/testdata/step/MANIFEST.md says how each was made).
openssl req -in "$step/req.csr" -outform DER -out "$tmp/step-req.der"
put csr "$tmp/step-req.der" step-req.der
for f in root issuer leaf leaf-bundle sans p384 rsa-root rsa-issuer ed-root enc-ec chain; do
  put certificate "$step/$f.crt" "step-$f.crt"
done
put certificate "$step/req.csr" step-req.csr
openssl x509 -in "$step/leaf.crt" -outform DER -out "$tmp/leaf.der"
put certificate "$tmp/leaf.der" step-leaf.der
for f in root issuer leaf rsa-root ed-root enc-ec enc-rsa enc-ed enc-issuer req; do
  put key "$step/$f.key" "step-$f.key"
done
put pem "$step/enc-ec.key" step-enc-ec.key
put pem "$step/leaf-bundle.crt" step-leaf-bundle.crt
put trust-bundle "$step/root.crt" step-root.crt
cat "$step/root.crt" "$step/rsa-root.crt" > "$tmp/two-roots.pem"
put trust-bundle "$tmp/two-roots.pem" step-two-roots.pem
# The server's issuer loader on step's issuer (crt \0 key \0 anchors).
{ cat "$step/issuer.crt"; printf '\0'; cat "$step/issuer.key"; printf '\0'; cat "$step/root.crt"; } > "$tmp/step-issuer.bin"
put issuer "$tmp/step-issuer.bin" step-issuer.bin

# What linkerd2-proxy's identity bootstrap sends (recorded with fuzz/seeds/proxy-identity-csr.go).
for f in fuzz/seeds/recorded/*.csr.der; do put csr "$f" "$(basename "$f")"; done
for f in fuzz/seeds/recorded/*.key.pem; do put key "$f" "$(basename "$f")"; done

# openssl's keys in every format the key reader takes, encrypted ones with the target's password.
pass=pass:identity-fuzz
openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/ec-sec1.pem"
openssl pkcs8 -topk8 -nocrypt -in "$tmp/ec-sec1.pem" -out "$tmp/ec-pkcs8.pem"
openssl pkcs8 -topk8 -v2 aes-256-cbc -passout "$pass" -in "$tmp/ec-sec1.pem" -out "$tmp/ec-pkcs8-enc.pem"
openssl ec -in "$tmp/ec-sec1.pem" -aes-128-cbc -passout "$pass" -out "$tmp/ec-legacy-enc.pem" 2>/dev/null
openssl ec -in "$tmp/ec-sec1.pem" -outform DER -out "$tmp/ec-sec1.der" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/rsa-pkcs8.pem" 2>/dev/null
openssl rsa -in "$tmp/rsa-pkcs8.pem" -traditional -out "$tmp/rsa-pkcs1.pem" 2>/dev/null
openssl rsa -in "$tmp/rsa-pkcs8.pem" -traditional -des3 -passout "$pass" -out "$tmp/rsa-legacy-enc.pem" 2>/dev/null
openssl genpkey -algorithm ED25519 -out "$tmp/ed25519.pem"
for f in ec-sec1.pem ec-pkcs8.pem ec-pkcs8-enc.pem ec-legacy-enc.pem ec-sec1.der rsa-pkcs8.pem rsa-pkcs1.pem rsa-legacy-enc.pem ed25519.pem; do
  put key "$tmp/$f" "openssl-$f"
done
put pem "$tmp/ec-legacy-enc.pem" openssl-ec-legacy-enc.pem
put pem "$tmp/rsa-legacy-enc.pem" openssl-rsa-legacy-enc.pem

# openssl's certificates and CSRs.
subj=/CN=web.emojivoto.serviceaccount.identity.linkerd.cluster.local
san=subjectAltName=DNS:web.emojivoto.serviceaccount.identity.linkerd.cluster.local
openssl req -new -key "$tmp/ec-sec1.pem" -subj "$subj" -addext "$san" -outform DER -out "$tmp/openssl-ec.csr.der"
openssl req -new -key "$tmp/rsa-pkcs8.pem" -subj "$subj" -addext "$san" -outform DER -out "$tmp/openssl-rsa.csr.der"
openssl req -new -key "$tmp/ed25519.pem" -subj "$subj" -addext "$san" -outform DER -out "$tmp/openssl-ed25519.csr.der"
for f in openssl-ec.csr.der openssl-rsa.csr.der openssl-ed25519.csr.der; do put csr "$tmp/$f" "$f"; done
openssl req -x509 -new -key "$tmp/ec-sec1.pem" -subj /CN=openssl-root -days 3650 \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -out "$tmp/openssl-root.pem"
openssl req -x509 -new -key "$tmp/rsa-pkcs8.pem" -subj /CN=openssl-rsa -days 3650 -addext "$san" \
  -addext "extendedKeyUsage=serverAuth,clientAuth" -addext "authorityInfoAccess=OCSP;URI:http://ocsp.example" \
  -addext "crlDistributionPoints=URI:http://crl.example/ca.crl" -addext "certificatePolicies=1.2.3.4" -out "$tmp/openssl-rsa.pem"
for f in openssl-root.pem openssl-rsa.pem; do put certificate "$tmp/$f" "$f"; put trust-bundle "$tmp/$f" "$f"; done

echo "corpus: $(find "$out" -type f | wc -l) seeds in $(ls "$out" | wc -l) targets"
