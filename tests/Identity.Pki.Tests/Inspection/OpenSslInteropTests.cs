using System.Security.Cryptography;
using Identity.Pki.Inspection;
using Identity.Pki.Verification;
using Identity.Pki.Time;

namespace Identity.Pki.Tests.Inspection;

/// <summary>
/// A certificate made by the real openssl CLI with extensions step never writes (CRL distribution points,
/// AIA, policies, a UPN other-name, a Netscape comment, several subject attributes) is printed in certinfo's
/// layout, and the values agree with what openssl itself reports.
/// </summary>
public sealed class OpenSslInteropTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("identity-inspect-openssl-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public void Openssl_certificate_with_many_extensions_is_printed_like_certinfo()
    {
        Assert.SkipUnless(File.Exists(OpenSsl.Path), "openssl CLI not installed");
        var config = Path.Combine(_dir.FullName, "openssl.cnf");
        File.WriteAllText(config, """
            [req]
            distinguished_name = dn
            [dn]
            [v3]
            basicConstraints = critical,CA:FALSE
            keyUsage = digitalSignature,keyEncipherment
            extendedKeyUsage = 1.2.3.4,serverAuth,codeSigning
            subjectAltName = DNS:x.example.com,DNS:*.y.example.com,IP:192.0.2.7,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:upn@example.com
            crlDistributionPoints = URI:http://crl.example.com/a.crl
            authorityInfoAccess = OCSP;URI:http://ocsp.example.com,caIssuers;URI:http://ca.example.com/ca.crt
            certificatePolicies = 2.23.140.1.2.1,1.2.3.4.5
            nsComment = hello world
            """);
        var pem = Path.Combine(_dir.FullName, "multi.pem");
        OpenSsl.RunOk(_dir.FullName, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384", "-nodes",
            "-keyout", Path.Combine(_dir.FullName, "multi.key"), "-subj", "/C=US/O=Example Org/OU=Unit/CN=multi.example.com",
            "-days", "30", "-set_serial", "0x00ff01", "-extensions", "v3", "-config", config, "-out", pem);
        var certificate = CertificateFile.ReadCertificates(pem)[0];

        var text = CertificateText.Format(certificate);

        Assert.Contains("        Serial Number: 65281 (0xff01)\n", text, StringComparison.Ordinal);
        Assert.Contains("    Signature Algorithm: ECDSA-SHA256\n        Issuer: C=US,O=Example Org,OU=Unit,CN=multi.example.com\n", text, StringComparison.Ordinal);
        Assert.Contains("                Public-Key: (384 bit)\n", text, StringComparison.Ordinal);
        Assert.Contains("                Curve: P-384\n", text, StringComparison.Ordinal);
        Assert.Contains("            X509v3 Basic Constraints: critical\n                CA:FALSE\n", text, StringComparison.Ordinal);
        Assert.Contains("            X509v3 Key Usage:\n                Digital Signature, Key Encipherment\n", text, StringComparison.Ordinal);
        Assert.Contains("            X509v3 Extended Key Usage:\n                Server Authentication, Code Signing, 1.2.3.4\n", text, StringComparison.Ordinal);
        Assert.Contains(
            "            X509v3 Subject Alternative Name:\n                DNS:x.example.com, DNS:*.y.example.com\n                IP Address:192.0.2.7\n                UPN: upn@example.com\n",
            text,
            StringComparison.Ordinal);
        Assert.Contains("            X509v3 CRL Distribution Points:\n                Full Name:\n                  URI:http://crl.example.com/a.crl\n", text, StringComparison.Ordinal);
        Assert.Contains(
            "            Authority Information Access:\n                OCSP - URI:http://ocsp.example.com\n                CA Issuers - URI:http://ca.example.com/ca.crt\n",
            text,
            StringComparison.Ordinal);
        Assert.Contains("            X509v3 Certificate Policies:\n                Policy: 2.23.140.1.2.1\n                Policy: 1.2.3.4.5\n", text, StringComparison.Ordinal);
        Assert.Contains("            Netscape Comment:\n                hello world\n", text, StringComparison.Ordinal);

        // The values agree with openssl's own view of the certificate.
        var ski = OpenSsl.RunOk(_dir.FullName, "x509", "-in", pem, "-noout", "-ext", "subjectKeyIdentifier").Split('\n')[1].Trim();
        Assert.Contains("            X509v3 Subject Key Identifier:\n                " + ski + "\n", text, StringComparison.Ordinal);
        var fingerprint = OpenSsl.RunOk(_dir.FullName, "x509", "-in", pem, "-noout", "-fingerprint", "-sha256").Trim().Split('=')[1].Replace(":", "", StringComparison.Ordinal);
        Assert.Equal(fingerprint, Convert.ToHexString(SHA256.HashData(certificate.RawData)));

        var shortText = CertificateText.FormatShort(certificate);
        Assert.Equal(
            $"X.509v3 TLS Certificate (ECDSA P-384) [Serial: 65281]\n  Subject:     multi.example.com\n               x.example.com\n               *.y.example.com\n               192.0.2.7\n  Issuer:      multi.example.com\n  Valid from:  {GoTime.Rfc3339(certificate.NotBefore.ToUniversalTime())}\n          to:  {GoTime.Rfc3339(certificate.NotAfter.ToUniversalTime())}\n",
            shortText);
    }
}
