using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Identity.Client.Tests.Support;

/// <summary>A small CA built with CertificateRequest: a root or an intermediate that can sign leaves and CSRs.</summary>
internal sealed class TestCa : IDisposable
{
    private TestCa(X509Certificate2 certificate, ECDsa key)
    {
        Certificate = certificate;
        Key = key;
    }

    /// <summary>The CA certificate (public part only).</summary>
    public X509Certificate2 Certificate { get; }

    public ECDsa Key { get; }

    public static TestCa CreateRoot(string name, DateTimeOffset now)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + name, key, HashAlgorithmName.SHA256);
        AddCaExtensions(request, pathLength: 1);
        using var self = request.CreateSelfSigned(now.AddDays(-30), now.AddYears(10));
        return new TestCa(X509CertificateLoader.LoadCertificate(self.RawData), key);
    }

    public TestCa CreateIntermediate(string name, DateTimeOffset now)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + name, key, HashAlgorithmName.SHA256);
        AddCaExtensions(request, pathLength: 0);
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, true, false));
        var cert = request.Create(Certificate.SubjectName, X509SignatureGenerator.CreateForECDsa(Key), now.AddDays(-20), now.AddYears(5), Serial());
        return new TestCa(cert, key);
    }

    /// <summary>Issues a workload leaf (new key) with the private key attached.</summary>
    public X509Certificate2 IssueLeaf(string identity, DateTimeOffset notBefore, DateTimeOffset notAfter, params string[] ekus)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + identity, key, HashAlgorithmName.SHA256);
        AddLeafExtensions(request, identity, ekus);
        using var cert = request.Create(Certificate.SubjectName, X509SignatureGenerator.CreateForECDsa(Key), notBefore, notAfter, Serial());
        return cert.CopyWithPrivateKey(key);
    }

    /// <summary>Signs a DER CSR as the Linkerd identity service does (subject and SANs copied, KU/EKU added).</summary>
    public X509Certificate2 SignCsr(byte[] csrDer, DateTimeOffset notBefore, DateTimeOffset notAfter, string? overrideDnsName = null)
    {
        var request = CertificateRequest.LoadSigningRequest(csrDer, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
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

        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, true, false));
        return request.Create(Certificate.SubjectName, X509SignatureGenerator.CreateForECDsa(Key), notBefore, notAfter, Serial());
    }

    public string CertificatePem() => Certificate.ExportCertificatePem();

    public void Dispose()
    {
        Certificate.Dispose();
        Key.Dispose();
    }

    private static void AddCaExtensions(CertificateRequest request, int pathLength)
    {
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, pathLength, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
    }

    private static void AddLeafExtensions(CertificateRequest request, string identity, string[] ekus)
    {
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(identity);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        var usages = ekus.Length == 0 ? ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"] : ekus;
        var collection = new OidCollection();
        foreach (var u in usages)
        {
            collection.Add(new Oid(u));
        }

        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(collection, false));
    }

    private static byte[] Serial()
    {
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // positive
        return serial;
    }
}
