using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Identity.Server.Issuance;

/// <summary>
/// Builds leaf certificates from the authenticated identity only (never from CSR subject or extensions), with
/// Linkerd's profile: CN and one DNS SAN = identity, KU digitalSignature|keyEncipherment (critical), EKU
/// serverAuth+clientAuth, AKI = issuer SKI, ECDSA-SHA256, random 128-bit serial.
/// </summary>
internal static class LeafIssuer
{
    private static readonly X509KeyUsageExtension KeyUsage =
        new(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, critical: true);

    private static readonly X509EnhancedKeyUsageExtension ExtendedKeyUsage = new(
        [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false);

    /// <summary>NotBefore = now - skew; NotAfter = min(now + lifetime + skew, earliest NotAfter of the issuer file).</summary>
    public static (DateTimeOffset NotBefore, DateTimeOffset NotAfter) Window(IssuerSnapshot issuer, DateTimeOffset now, TimeSpan lifetime, TimeSpan skew)
    {
        var notAfter = now + lifetime + skew;
        if (notAfter > issuer.FirstExpiration)
        {
            notAfter = issuer.FirstExpiration;
        }

        return (now - skew, notAfter);
    }

    public static X509Certificate2 Issue(IssuerSnapshot issuer, string identity, PublicKey publicKey,
        DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        var signer = issuer.Signer
            ?? throw new CryptographicException("x509: requested SignatureAlgorithm does not match private key type");
        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName(identity);
        var request = new CertificateRequest(subject.Build(), publicKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(KeyUsage);
        request.CertificateExtensions.Add(ExtendedKeyUsage);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(identity);
        request.CertificateExtensions.Add(san.Build(critical: false));
        if (issuer.AuthorityKeyIdentifier is { } aki)
        {
            request.CertificateExtensions.Add(aki);
        }

        Span<byte> serial = stackalloc byte[16];
        RandomNumberGenerator.Fill(serial);
        // Positive and exactly 16 bytes in DER: clear the sign bit and keep a non-zero top byte.
        serial[0] = (byte)((serial[0] & 0x7F) | 0x40);
        return request.Create(issuer.Issuer.SubjectName, signer, notBefore, notAfter, serial);
    }
}
