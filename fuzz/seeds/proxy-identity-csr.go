// Records the CSR and key linkerd2-proxy's identity bootstrap makes (linkerd/linkerd2 proxy-identity/main.go:
// generateAndStoreKey and generateAndStoreCSR), with the same Go standard-library calls, for the fuzz seed corpus.
// Not built by CI: `go run proxy-identity-csr.go OUTDIR IDENTITY...` once, and commit what it writes.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: proxy-identity-csr OUTDIR IDENTITY...")
		os.Exit(2)
	}
	out := os.Args[1]
	for i, id := range os.Args[2:] {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		check(err)
		csr := x509.CertificateRequest{Subject: pkix.Name{CommonName: id}, DNSNames: []string{id}}
		der, err := x509.CreateCertificateRequest(rand.Reader, &csr, key)
		check(err)
		check(os.WriteFile(filepath.Join(out, fmt.Sprintf("proxy-identity-%d.csr.der", i)), der, 0o600))
		p8, err := x509.MarshalPKCS8PrivateKey(key)
		check(err)
		pemb := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8})
		check(os.WriteFile(filepath.Join(out, fmt.Sprintf("proxy-identity-%d.key.pem", i)), pemb, 0o600))
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
