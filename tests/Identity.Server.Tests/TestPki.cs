using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Identity.Server.Tests;

/// <summary>A CA certificate and its key, made in the test with CertificateRequest.</summary>
internal sealed record TestCa(X509Certificate2 Certificate, ECDsa Key)
{
    public string CertificatePem => Certificate.ExportCertificatePem() + "\n";

    public string KeyPem => Key.ExportECPrivateKeyPem() + "\n";
}

/// <summary>Certificates and CSRs for tests; every validity is relative to the given "now".</summary>
internal static class TestPki
{
    public const string TrustDomain = "cluster.local";
    public const string ControllerNamespace = "linkerd";

    public static string IdentityOf(string sa, string ns) => $"{sa}.{ns}.serviceaccount.identity.{ControllerNamespace}.{TrustDomain}";

    public static TestCa CreateRoot(DateTimeOffset now, string name = "root.linkerd.cluster.local", TimeSpan? lifetime = null)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 1, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var cert = request.CreateSelfSigned(now.AddDays(-1), now + (lifetime ?? TimeSpan.FromDays(3650)));
        return new TestCa(X509CertificateLoader.LoadCertificate(cert.RawData), key);
    }

    public static TestCa CreateIntermediate(TestCa parent, DateTimeOffset now, string name = "identity.linkerd.cluster.local",
        TimeSpan? lifetime = null, DateTimeOffset? notBefore = null, bool isCa = true, string[]? extendedKeyUsages = null)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(isCa, isCa, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        if (extendedKeyUsages is not null)
        {
            var usages = new OidCollection();
            foreach (var usage in extendedKeyUsages)
            {
                usages.Add(new Oid(usage));
            }

            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usages, false));
        }

        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(parent.Certificate, true, false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        var notAfter = now + (lifetime ?? TimeSpan.FromDays(365));
        if (notAfter > parent.Certificate.NotAfter)
        {
            notAfter = parent.Certificate.NotAfter;
        }

        using var cert = request.Create(parent.Certificate.SubjectName, X509SignatureGenerator.CreateForECDsa(parent.Key),
            notBefore ?? now.AddHours(-1), notAfter, serial);
        return new TestCa(X509CertificateLoader.LoadCertificate(cert.RawData), key);
    }

    /// <summary>A proxy-style CSR: P-256, CN = identity, one DNS SAN = identity, ECDSA-SHA256.</summary>
    public static byte[] ProxyCsr(string identity, ECDsa? key = null) =>
        Csr($"CN={identity}", san => san.AddDnsName(identity), key ?? ECDsa.Create(ECCurve.NamedCurves.nistP256));

    public static byte[] Csr(string subject, Action<SubjectAlternativeNameBuilder>? sans, AsymmetricAlgorithm key,
        HashAlgorithmName? hash = null, Action<CertificateRequest>? extra = null)
    {
        var request = key switch
        {
            ECDsa ec => new CertificateRequest(subject, ec, hash ?? HashAlgorithmName.SHA256),
            RSA rsa => new CertificateRequest(subject, rsa, hash ?? HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            _ => throw new ArgumentException("unsupported key type", nameof(key)),
        };
        if (sans is not null)
        {
            var builder = new SubjectAlternativeNameBuilder();
            sans(builder);
            request.CertificateExtensions.Add(builder.Build());
        }

        extra?.Invoke(request);
        return request.CreateSigningRequest();
    }

    /// <summary>A proxy-style CSR signed with ECDSA-SHA1 (which the BCL will not produce by itself).</summary>
    public static byte[] Sha1Csr(string identity)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={identity}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(identity);
        request.CertificateExtensions.Add(san.Build());
        return request.CreateSigningRequest(new Sha1EcdsaGenerator(key));
    }

    /// <summary>
    /// A proxy-style CSR that carries <paramref name="subjectPublicKeyInfo"/> (any bytes, hostile ones included),
    /// signed with an unrelated P-256 key: the key checks must refuse it before the signature matters.
    /// </summary>
    public static byte[] CsrWithPublicKey(string identity, byte[] subjectPublicKeyInfo)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var proxy = new System.Formats.Asn1.AsnReader(ProxyCsr(identity, key), System.Formats.Asn1.AsnEncodingRules.DER).ReadSequence();
        var info = proxy.ReadSequence();
        var writer = new System.Formats.Asn1.AsnWriter(System.Formats.Asn1.AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteEncodedValue(info.ReadEncodedValue().Span); // version
            writer.WriteEncodedValue(info.ReadEncodedValue().Span); // subject
            info.ReadEncodedValue();
            writer.WriteEncodedValue(subjectPublicKeyInfo);
            writer.WriteEncodedValue(info.ReadEncodedValue().Span); // attributes
        }

        var infoDer = writer.Encode();
        var csr = new System.Formats.Asn1.AsnWriter(System.Formats.Asn1.AsnEncodingRules.DER);
        using (csr.PushSequence())
        {
            csr.WriteEncodedValue(infoDer);
            using (csr.PushSequence())
            {
                csr.WriteObjectIdentifier("1.2.840.10045.4.3.2");
            }

            csr.WriteBitString(key.SignData(infoDer, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        }

        return csr.Encode();
    }

    /// <summary>A valid CSR whose signature's last byte is flipped: still DER, no longer a valid signature.</summary>
    public static byte[] BadSignatureCsr(string identity)
    {
        var der = ProxyCsr(identity);
        der[^1] ^= 0x01;
        return der;
    }

    /// <summary>Writes the issuer file the Kubernetes way: timestamped dir, ..data symlink, file symlinks.</summary>
    public static void WriteKubernetesIssuer(string directory, string crtPem, string keyPem, string crtName = "crt.pem", string keyName = "key.pem")
    {
        Directory.CreateDirectory(directory);
        var stamp = $"..{DateTime.UtcNow:yyyy_MM_dd_HH_mm_ss}.{Guid.NewGuid():N}";
        var target = Path.Combine(directory, stamp);
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, keyName), keyPem);
        File.WriteAllText(Path.Combine(target, crtName), crtPem);
        var tmp = Path.Combine(directory, "..data_tmp");
        if (File.Exists(tmp) || Directory.Exists(tmp))
        {
            File.Delete(tmp);
        }

        File.CreateSymbolicLink(tmp, stamp);
        var data = Path.Combine(directory, "..data");
        var old = new FileInfo(data).LinkTarget;
        // rename(2) over the old link, the atomic swap the kubelet's atomic writer does (File.Move refuses a
        // symlink to a directory as its source, so use mv -T, which is a plain rename).
        using (var mv = System.Diagnostics.Process.Start("/bin/mv", ["-T", tmp, data]))
        {
            mv.WaitForExit();
            if (mv.ExitCode != 0)
            {
                throw new IOException($"mv -T {tmp} {data} failed");
            }
        }
        foreach (var name in new[] { crtName, keyName })
        {
            var link = Path.Combine(directory, name);
            if (!File.Exists(link) && new FileInfo(link).LinkTarget is null)
            {
                File.CreateSymbolicLink(link, Path.Combine("..data", name));
            }
        }

        if (old is not null && old != stamp)
        {
            Directory.Delete(Path.Combine(directory, old), recursive: true);
        }
    }

    public static string Pem(params X509Certificate2[] certs) =>
        string.Concat(certs.Select(c => c.ExportCertificatePem() + "\n"));

    private sealed class Sha1EcdsaGenerator(ECDsa key) : X509SignatureGenerator
    {
        public override byte[] GetSignatureAlgorithmIdentifier(HashAlgorithmName hashAlgorithm)
        {
            var writer = new AsnWriter(AsnEncodingRules.DER);
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier("1.2.840.10045.4.1");
            }

            return writer.Encode();
        }

        public override byte[] SignData(byte[] data, HashAlgorithmName hashAlgorithm) =>
            key.SignData(data, HashAlgorithmName.SHA1, DSASignatureFormat.Rfc3279DerSequence);

        protected override PublicKey BuildPublicKey() => X509SignatureGenerator.CreateForECDsa(key).PublicKey;
    }

    public static string Utf8(byte[] bytes) => Encoding.UTF8.GetString(bytes);
}
