using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Identity.Pki.Tests.Verification;

/// <summary>Builds small PKIs in memory with the BCL, at fixed times so tests never depend on today.</summary>
internal sealed class TestCertificates
{
    public static readonly DateTimeOffset Start = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static X509Certificate2 Root(string name, int? pathLength = null, DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = CaRequest(name, key, pathLength);
        return request.CreateSelfSigned(notBefore ?? Start, notAfter ?? Start.AddYears(10));
    }

    public static X509Certificate2 Intermediate(
        X509Certificate2 issuer,
        string name,
        int? pathLength = null,
        bool isCa = true,
        DateTimeOffset? notBefore = null,
        DateTimeOffset? notAfter = null,
        IEnumerable<string>? extendedKeyUsages = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        CertificateRequest request;
        if (isCa)
        {
            request = CaRequest(name, key, pathLength);
        }
        else
        {
            request = new CertificateRequest("CN=" + name, key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
            request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        }

        if (extendedKeyUsages is not null)
        {
            var usages = new OidCollection();
            foreach (var usage in extendedKeyUsages)
            {
                usages.Add(new Oid(usage));
            }

            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usages, critical: false));
        }

        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        using var signed = SignUnchecked(request, issuer, notBefore ?? Start, notAfter ?? Start.AddYears(5));
        return signed.CopyWithPrivateKey(key);
    }

    public static X509Certificate2 Leaf(
        X509Certificate2 issuer,
        string dnsName,
        DateTimeOffset? notBefore = null,
        DateTimeOffset? notAfter = null,
        bool authorityKeyId = true,
        IEnumerable<string>? ipAddresses = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + dnsName, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(dnsName);
        foreach (var ip in ipAddresses ?? [])
        {
            san.AddIpAddress(System.Net.IPAddress.Parse(ip));
        }

        request.CertificateExtensions.Add(san.Build());
        if (authorityKeyId)
        {
            request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        }

        return SignUnchecked(request, issuer, notBefore ?? Start, notAfter ?? Start.AddDays(1));
    }

    private static CertificateRequest CaRequest(string name, ECDsa key, int? pathLength)
    {
        var request = new CertificateRequest("CN=" + name, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(
            true, pathLength.HasValue, pathLength ?? 0, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        return request;
    }

    /// <summary>
    /// Signs without the BCL's issuer checks (CA flag, validity nesting), so tests can build the broken
    /// chains that the verifier must reject.
    /// </summary>
    private static X509Certificate2 SignUnchecked(CertificateRequest request, X509Certificate2 issuer, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        using var issuerKey = issuer.GetECDsaPrivateKey() ?? throw new InvalidOperationException("issuer has no EC key");
        var generator = X509SignatureGenerator.CreateForECDsa(issuerKey);
        return request.Create(issuer.SubjectName, generator, notBefore, notAfter, NewSerial());
    }

    private static byte[] NewSerial()
    {
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        return serial;
    }
}
