using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Identity.Client;

/// <summary>
/// The workload's P-256 key and its DER CSR (CN and exactly one DNS SAN = the identity, ECDSA-SHA256).
/// Made once per client and kept in memory only; the same CSR is resent on every renewal, as the proxy does.
/// </summary>
internal sealed class WorkloadKey : IDisposable
{
    private WorkloadKey(ECDsa key, byte[] csrDer)
    {
        Key = key;
        CsrDer = csrDer;
    }

    public ECDsa Key { get; }

    public byte[] CsrDer { get; }

    public static WorkloadKey Create(string identity)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        try
        {
            var subject = new X500DistinguishedNameBuilder();
            subject.AddCommonName(identity);
            var request = new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256);
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName(identity);
            request.CertificateExtensions.Add(san.Build());
            return new WorkloadKey(key, request.CreateSigningRequest());
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>Whether <paramref name="certificate"/> certifies this key.</summary>
    public bool Matches(X509Certificate2 certificate)
    {
        using var other = certificate.GetECDsaPublicKey();
        return other is not null &&
            other.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(Key.ExportSubjectPublicKeyInfo());
    }

    public void Dispose() => Key.Dispose();
}
