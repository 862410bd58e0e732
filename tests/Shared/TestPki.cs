using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Identity.Testing;

/// <summary>The key types a test certificate can have.</summary>
internal enum TestKeyType
{
    EcP256,
    EcP384,
    EcP521,
    Rsa2048,
    Rsa3072,
}

/// <summary>A test certificate (public part only) and its private key.</summary>
internal sealed class TestCredential : IDisposable
{
    public TestCredential(X509Certificate2 certificate, AsymmetricAlgorithm key)
    {
        Certificate = certificate;
        Key = key;
    }

    public X509Certificate2 Certificate { get; }

    public AsymmetricAlgorithm Key { get; }

    /// <summary>The key as ECDsa, for tests that only make EC credentials.</summary>
    public ECDsa EcKey => Key as ECDsa ?? throw new InvalidOperationException("not an EC credential");

    /// <summary>The certificate as PEM with a trailing newline, the way files on disk end.</summary>
    public string CertificatePem => Certificate.ExportCertificatePem() + "\n";

    /// <summary>The key as a traditional PEM (SEC 1 for EC, PKCS#1 for RSA), as Linkerd's issuer files hold it.</summary>
    public string KeyPem => Key switch
    {
        ECDsa ec => ec.ExportECPrivateKeyPem() + "\n",
        RSA rsa => rsa.ExportRSAPrivateKeyPem() + "\n",
        _ => throw new NotSupportedException(),
    };

    /// <summary>A new copy of the certificate with the private key attached (the caller disposes it).</summary>
    public X509Certificate2 CertificateWithKey() => Key switch
    {
        ECDsa ec => Certificate.CopyWithPrivateKey(ec),
        RSA rsa => Certificate.CopyWithPrivateKey(rsa),
        _ => throw new NotSupportedException(),
    };

    /// <summary>Signs with this credential's key (PKCS#1 v1.5 padding for RSA).</summary>
    public X509SignatureGenerator SignatureGenerator() => TestPki.SignatureGenerator(Key);

    public void Dispose()
    {
        Certificate.Dispose();
        Key.Dispose();
    }
}

/// <summary>
/// The tests' one certificate authority: roots, intermediates and leaves made with CertificateRequest, every
/// default validity relative to the clock it was given (a fixed instant or a fake TimeProvider), never to the
/// machine's. Each certificate gets a random positive 16-byte serial. Signing skips the BCL's issuer checks (CA
/// flag, validity nesting), so tests can also build the broken chains a verifier must refuse.
/// </summary>
internal sealed class TestPki
{
    public const string ServerAuth = "1.3.6.1.5.5.7.3.1";
    public const string ClientAuth = "1.3.6.1.5.5.7.3.2";

    private const X509KeyUsageFlags CaUsage = X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign;

    private readonly TimeProvider _time;

    public TestPki(TimeProvider time) => _time = time;

    public TestPki(DateTimeOffset now)
        : this(new Microsoft.Extensions.Time.Testing.FakeTimeProvider(now))
    {
    }

    /// <summary>The instant default validities are relative to.</summary>
    public DateTimeOffset Now => _time.GetUtcNow();

    /// <summary>
    /// A self-signed CA. Defaults: CN=root.linkerd.cluster.local, valid from a day ago for 3650 days, P-256,
    /// keyCertSign|cRLSign, CA without a path length, SKI, no AKI.
    /// </summary>
    public TestCredential Root(
        string name = "root.linkerd.cluster.local",
        DateTimeOffset? notBefore = null,
        DateTimeOffset? notAfter = null,
        TestKeyType key = TestKeyType.EcP256,
        HashAlgorithmName? hash = null,
        int? pathLength = null,
        X509KeyUsageFlags? keyUsage = CaUsage,
        IEnumerable<string>? extendedKeyUsages = null,
        bool subjectKeyIdentifier = true,
        X500DistinguishedName? subject = null) =>
        Create(null, new Spec
        {
            Subject = subject ?? Cn(name),
            NotBefore = notBefore ?? Now.AddDays(-1),
            NotAfter = notAfter ?? Now.AddDays(3650),
            Key = key,
            Hash = hash,
            IsCa = true,
            PathLength = pathLength,
            KeyUsage = keyUsage,
            ExtendedKeyUsages = extendedKeyUsages,
            SubjectKeyIdentifier = subjectKeyIdentifier,
        });

    /// <summary>
    /// A CA signed by <paramref name="issuer"/>. Defaults: CN=identity.linkerd.cluster.local (Linkerd's issuer),
    /// valid from a day ago for 365 days, P-256, keyCertSign|cRLSign, CA with path length 0, SKI and AKI.
    /// <paramref name="isCa"/> false writes CA=false, null leaves basic constraints out; <paramref name="pathLength"/>
    /// null leaves the path length out.
    /// </summary>
    public TestCredential Intermediate(
        TestCredential issuer,
        string name = "identity.linkerd.cluster.local",
        DateTimeOffset? notBefore = null,
        DateTimeOffset? notAfter = null,
        TestKeyType key = TestKeyType.EcP256,
        HashAlgorithmName? hash = null,
        bool? isCa = true,
        int? pathLength = 0,
        X509KeyUsageFlags? keyUsage = CaUsage,
        IEnumerable<string>? extendedKeyUsages = null,
        bool subjectKeyIdentifier = true,
        bool authorityKeyIdentifier = true,
        X500DistinguishedName? subject = null) =>
        Create(issuer, new Spec
        {
            Subject = subject ?? Cn(name),
            NotBefore = notBefore ?? Now.AddDays(-1),
            NotAfter = notAfter ?? Now.AddDays(365),
            Key = key,
            Hash = hash,
            IsCa = isCa,
            PathLength = isCa == true ? pathLength : null,
            KeyUsage = keyUsage,
            ExtendedKeyUsages = extendedKeyUsages,
            SubjectKeyIdentifier = subjectKeyIdentifier,
            AuthorityKeyIdentifier = authorityKeyIdentifier,
        });

    /// <summary>
    /// An end-entity certificate signed by <paramref name="issuer"/>. Defaults: CN and one DNS SAN =
    /// <paramref name="name"/>, valid from now for one day, P-256, digitalSignature, serverAuth+clientAuth, no basic
    /// constraints, AKI, no SKI. <paramref name="dnsNames"/> replaces the DNS SANs (empty: none).
    /// </summary>
    public TestCredential Leaf(
        TestCredential issuer,
        string name,
        DateTimeOffset? notBefore = null,
        DateTimeOffset? notAfter = null,
        TestKeyType key = TestKeyType.EcP256,
        HashAlgorithmName? hash = null,
        IEnumerable<string>? dnsNames = null,
        IEnumerable<IPAddress>? ipAddresses = null,
        IEnumerable<Uri>? uris = null,
        X509KeyUsageFlags? keyUsage = X509KeyUsageFlags.DigitalSignature,
        IEnumerable<string>? extendedKeyUsages = null,
        bool? isCa = null,
        bool subjectKeyIdentifier = false,
        bool authorityKeyIdentifier = true,
        X500DistinguishedName? subject = null) =>
        Create(issuer, new Spec
        {
            Subject = subject ?? Cn(name),
            NotBefore = notBefore ?? Now,
            NotAfter = notAfter ?? Now.AddDays(1),
            Key = key,
            Hash = hash,
            IsCa = isCa,
            KeyUsage = keyUsage,
            ExtendedKeyUsages = extendedKeyUsages ?? [ServerAuth, ClientAuth],
            DnsNames = dnsNames ?? [name],
            IpAddresses = ipAddresses ?? [],
            Uris = uris ?? [],
            SubjectKeyIdentifier = subjectKeyIdentifier,
            AuthorityKeyIdentifier = authorityKeyIdentifier,
        });

    /// <summary>
    /// Signs a DER CSR the way Linkerd's identity service does: subject, key and SANs from the CSR (the DNS SAN
    /// replaced by <paramref name="overrideDnsName"/> if given), digitalSignature|keyEncipherment,
    /// serverAuth+clientAuth, AKI.
    /// </summary>
    public static X509Certificate2 SignCsr(
        TestCredential issuer, byte[] csrDer, DateTimeOffset notBefore, DateTimeOffset notAfter, string? overrideDnsName = null)
    {
        var request = CertificateRequest.LoadSigningRequest(
            csrDer, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
        if (overrideDnsName is not null)
        {
            for (var i = request.CertificateExtensions.Count - 1; i >= 0; i--)
            {
                if (request.CertificateExtensions[i] is X509SubjectAlternativeNameExtension)
                {
                    request.CertificateExtensions.RemoveAt(i);
                }
            }

            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName(overrideDnsName);
            request.CertificateExtensions.Add(san.Build());
        }

        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(Eku([ServerAuth, ClientAuth]));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer.Certificate, true, false));
        return request.Create(issuer.Certificate.SubjectName, issuer.SignatureGenerator(), notBefore, notAfter, NewSerial());
    }

    public static AsymmetricAlgorithm NewKey(TestKeyType type) => type switch
    {
        TestKeyType.EcP256 => ECDsa.Create(ECCurve.NamedCurves.nistP256),
        TestKeyType.EcP384 => ECDsa.Create(ECCurve.NamedCurves.nistP384),
        TestKeyType.EcP521 => ECDsa.Create(ECCurve.NamedCurves.nistP521),
        TestKeyType.Rsa2048 => RSA.Create(2048),
        TestKeyType.Rsa3072 => RSA.Create(3072),
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>A generator signing with <paramref name="key"/> (PKCS#1 v1.5 padding for RSA).</summary>
    public static X509SignatureGenerator SignatureGenerator(AsymmetricAlgorithm key) => key switch
    {
        ECDsa ec => X509SignatureGenerator.CreateForECDsa(ec),
        RSA rsa => X509SignatureGenerator.CreateForRSA(rsa, RSASignaturePadding.Pkcs1),
        _ => throw new NotSupportedException(),
    };

    /// <summary>PEM of several certificates, each ending in a newline.</summary>
    public static string Pem(params X509Certificate2[] certificates) =>
        string.Concat(certificates.Select(c => c.ExportCertificatePem() + "\n"));

    /// <summary>A random positive 16-byte serial.</summary>
    public static byte[] NewSerial()
    {
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        return serial;
    }

    private static X500DistinguishedName Cn(string name) => new("CN=" + name);

    private static TestCredential Create(TestCredential? issuer, Spec spec)
    {
        var key = NewKey(spec.Key);
        // The signature's hash follows the subject key's size unless the test asks otherwise (SHA-384 for P-384,
        // SHA-512 for P-521, SHA-256 for the rest), as a CA made with step or openssl defaults does.
        var hash = spec.Hash ?? (key.KeySize switch { 384 => HashAlgorithmName.SHA384, 521 => HashAlgorithmName.SHA512, _ => HashAlgorithmName.SHA256 });
        var request = key switch
        {
            ECDsa ec => new CertificateRequest(spec.Subject, ec, hash),
            RSA rsa => new CertificateRequest(spec.Subject, rsa, hash, RSASignaturePadding.Pkcs1),
            _ => throw new NotSupportedException(),
        };
        if (spec.IsCa is { } isCa)
        {
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(isCa, spec.PathLength is not null, spec.PathLength ?? 0, true));
        }

        if (spec.KeyUsage is { } usage)
        {
            request.CertificateExtensions.Add(new X509KeyUsageExtension(usage, true));
        }

        if (spec.ExtendedKeyUsages is not null)
        {
            request.CertificateExtensions.Add(Eku(spec.ExtendedKeyUsages));
        }

        if (spec.DnsNames.Any() || spec.IpAddresses.Any() || spec.Uris.Any())
        {
            var san = new SubjectAlternativeNameBuilder();
            foreach (var dns in spec.DnsNames)
            {
                san.AddDnsName(dns);
            }

            foreach (var ip in spec.IpAddresses)
            {
                san.AddIpAddress(ip);
            }

            foreach (var uri in spec.Uris)
            {
                san.AddUri(uri);
            }

            request.CertificateExtensions.Add(san.Build());
        }

        if (spec.SubjectKeyIdentifier)
        {
            request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        }

        if (issuer is not null && spec.AuthorityKeyIdentifier)
        {
            request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer.Certificate, true, false));
        }

        var generator = SignatureGenerator(issuer?.Key ?? key);
        using var certificate = request.Create(
            issuer?.Certificate.SubjectName ?? spec.Subject, generator, spec.NotBefore, spec.NotAfter, NewSerial());
        return new TestCredential(X509CertificateLoader.LoadCertificate(certificate.RawData), key);
    }

    private static X509EnhancedKeyUsageExtension Eku(IEnumerable<string> oids)
    {
        var collection = new OidCollection();
        foreach (var oid in oids)
        {
            collection.Add(new Oid(oid));
        }

        return new X509EnhancedKeyUsageExtension(collection, false);
    }

    private sealed record Spec
    {
        public required X500DistinguishedName Subject { get; init; }

        public required DateTimeOffset NotBefore { get; init; }

        public required DateTimeOffset NotAfter { get; init; }

        public TestKeyType Key { get; init; }

        public HashAlgorithmName? Hash { get; init; }

        /// <summary>Null: no basic constraints extension.</summary>
        public bool? IsCa { get; init; }

        /// <summary>Null: no path length constraint.</summary>
        public int? PathLength { get; init; }

        public X509KeyUsageFlags? KeyUsage { get; init; }

        public IEnumerable<string>? ExtendedKeyUsages { get; init; }

        public IEnumerable<string> DnsNames { get; init; } = [];

        public IEnumerable<IPAddress> IpAddresses { get; init; } = [];

        public IEnumerable<Uri> Uris { get; init; } = [];

        public bool SubjectKeyIdentifier { get; init; }

        public bool AuthorityKeyIdentifier { get; init; }
    }
}
