using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Identity.Cli.Tests.Check;

/// <summary>Creates anchors and issuers for tests with CertificateRequest, relative to a fixed test clock.</summary>
internal static class TestPki
{
    /// <summary>The tests' "now"; whole seconds, so certificate times round-trip exactly.</summary>
    public static readonly DateTimeOffset Now = new(2030, 6, 1, 12, 0, 0, TimeSpan.Zero);

    public sealed record Cred(X509Certificate2 Certificate, AsymmetricAlgorithm Key)
    {
        public string CertificatePem => Certificate.ExportCertificatePem() + "\n";

        public string KeyPem => Key switch
        {
            ECDsa ec => ec.ExportECPrivateKeyPem() + "\n",
            RSA rsa => rsa.ExportRSAPrivateKeyPem() + "\n",
            _ => throw new NotSupportedException(),
        };
    }

    public static AsymmetricAlgorithm NewKey(string kind) => kind switch
    {
        "P-256" => ECDsa.Create(ECCurve.NamedCurves.nistP256),
        "P-384" => ECDsa.Create(ECCurve.NamedCurves.nistP384),
        "P-521" => ECDsa.Create(ECCurve.NamedCurves.nistP521),
        "RSA-2048" => RSA.Create(2048),
        "RSA-3072" => RSA.Create(3072),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static Cred Root(
        string cn = "root.linkerd.cluster.local",
        TimeSpan? notBefore = null,
        TimeSpan? notAfter = null,
        string key = "P-256",
        int? pathLength = null)
    {
        var k = NewKey(key);
        var request = Request($"CN={cn}", k);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, pathLength is not null, pathLength ?? 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var cert = request.CreateSelfSigned(Now + (notBefore ?? TimeSpan.FromDays(-1)), Now + (notAfter ?? TimeSpan.FromDays(3650)));
        return new Cred(X509CertificateLoader.LoadCertificate(cert.RawData), k);
    }

    public static Cred Issuer(
        Cred signer,
        string cn = "identity.linkerd.cluster.local",
        TimeSpan? notBefore = null,
        TimeSpan? notAfter = null,
        string key = "P-256",
        bool isCa = true,
        X509KeyUsageFlags? usage = X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign,
        int? pathLength = 0,
        Oid[]? eku = null)
    {
        var k = NewKey(key);
        var request = Request($"CN={cn}", k);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(isCa, isCa && pathLength is not null, pathLength ?? 0, true));
        if (usage is { } u)
        {
            request.CertificateExtensions.Add(new X509KeyUsageExtension(u, true));
        }

        if (eku is not null)
        {
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection().AddAll(eku), false));
        }

        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(signer.Certificate, true, false));
        var generator = signer.Key switch
        {
            ECDsa ec => X509SignatureGenerator.CreateForECDsa(ec),
            RSA rsa => X509SignatureGenerator.CreateForRSA(rsa, RSASignaturePadding.Pkcs1),
            _ => throw new NotSupportedException(),
        };

        // The generator overload does not insist the child fits inside the signer's validity, so tests can
        // build e.g. a valid issuer under an expired anchor.
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        var cert = request.Create(
            signer.Certificate.SubjectName,
            generator,
            Now + (notBefore ?? TimeSpan.FromDays(-1)),
            Now + (notAfter ?? TimeSpan.FromDays(365)),
            serial);
        return new Cred(cert, k);
    }

    public static string SerialDecimal(X509Certificate2 certificate) =>
        new BigInteger(certificate.SerialNumberBytes.Span, isUnsigned: true, isBigEndian: true).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static string Sha256(X509Certificate2 certificate) => Convert.ToHexStringLower(SHA256.HashData(certificate.RawData));

    private static CertificateRequest Request(string subject, AsymmetricAlgorithm key) => key switch
    {
        ECDsa ec => new CertificateRequest(subject, ec, ec.KeySize switch { 384 => HashAlgorithmName.SHA384, 521 => HashAlgorithmName.SHA512, _ => HashAlgorithmName.SHA256 }),
        RSA rsa => new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
        _ => throw new NotSupportedException(),
    };

    private static OidCollection AddAll(this OidCollection collection, IEnumerable<Oid> oids)
    {
        foreach (var oid in oids)
        {
            collection.Add(oid);
        }

        return collection;
    }
}
