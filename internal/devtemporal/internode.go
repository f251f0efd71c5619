package devtemporal

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"

	"go.temporal.io/server/common/config"
)

// internodeName is the name the server's services know each other by on
// their internal connections.
const internodeName = "contractd-temporal-internode"

// internodeTLS is mutual TLS between the server's own services (history,
// matching, worker and the internal frontend), with a certificate
// authority made for this process and gone with it. The internal frontend
// gives whoever reaches it every right (it serves the server's system
// workers): without a certificate only this process holds, any process on
// the machine could write through it, around the public frontend's write
// token (a probe did). The public frontend stays plain, for SDK clients.
func internodeTLS() (config.RootTLS, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return config.RootTLS{}, fmt.Errorf("internode CA key: %w", err)
	}
	now := time.Now()
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "contractd embedded temporal CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return config.RootTLS{}, fmt.Errorf("internode CA: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return config.RootTLS{}, fmt.Errorf("internode key: %w", err)
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: internodeName}, DNSNames: []string{internodeName},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		return config.RootTLS{}, fmt.Errorf("internode certificate: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return config.RootTLS{}, fmt.Errorf("internode key: %w", err)
	}
	caData := pemData("CERTIFICATE", caDER)
	return config.RootTLS{Internode: config.GroupTLS{
		// The services present this one certificate both ways.
		Server: config.ServerTLS{
			CertData: pemData("CERTIFICATE", leafDER), KeyData: pemData("EC PRIVATE KEY", keyDER),
			ClientCAData: []string{caData}, RequireClientAuth: true,
		},
		Client: config.ClientTLS{ServerName: internodeName, RootCAData: []string{caData}},
	}}, nil
}

// pemData is der as PEM, base64-encoded, as Temporal's TLS settings take it.
func pemData(kind string, der []byte) string {
	return base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}))
}
