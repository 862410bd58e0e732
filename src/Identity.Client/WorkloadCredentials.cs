using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Identity.Client.Verification;

namespace Identity.Client;

/// <summary>
/// An immutable snapshot of a workload's TLS credentials: the leaf with its private key, the intermediates that
/// chain it to the trust anchors (issuer first) and a prebuilt <see cref="SslStreamCertificateContext"/> that sends them.
/// A new snapshot replaces the old one atomically on renewal; snapshots are never mutated or disposed by the library.
/// </summary>
public sealed class WorkloadCredentials
{
    private WorkloadCredentials(X509Certificate2 certificate, IReadOnlyList<X509Certificate2> intermediates, string identity)
    {
        Certificate = certificate;
        Intermediates = intermediates;
        Identity = identity;
        // Offline: the chain is built from what we were given, never downloaded (a pod has no route to AIA URLs).
        CertificateContext = SslStreamCertificateContext.Create(certificate, [.. intermediates], offline: true);
    }

    /// <summary>The leaf certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The intermediates sent after the leaf (issuer first), as returned by the identity service.</summary>
    public IReadOnlyList<X509Certificate2> Intermediates { get; }

    /// <summary>The identity (the leaf's first DNS SAN).</summary>
    public string Identity { get; }

    /// <summary>The leaf's NotBefore (UTC).</summary>
    public DateTimeOffset NotBefore => new(Certificate.NotBefore.ToUniversalTime());

    /// <summary>The leaf's NotAfter (UTC); the certificate is served until then.</summary>
    public DateTimeOffset NotAfter => new(Certificate.NotAfter.ToUniversalTime());

    /// <summary>A context that presents the leaf and the intermediates in TLS handshakes.</summary>
    public SslStreamCertificateContext CertificateContext { get; }

    /// <summary>Whether the leaf is within its validity period at <paramref name="now"/>.</summary>
    public bool IsValidAt(DateTimeOffset now) => now >= NotBefore && now <= NotAfter;

    /// <summary>
    /// Builds a snapshot from a leaf that already holds its private key (for tests and static configurations).
    /// The leaf must carry a DNS SAN; no chain verification is done here.
    /// </summary>
    public static WorkloadCredentials Create(X509Certificate2 leafWithPrivateKey, IEnumerable<X509Certificate2> intermediates)
    {
        ArgumentNullException.ThrowIfNull(leafWithPrivateKey);
        ArgumentNullException.ThrowIfNull(intermediates);
        if (!leafWithPrivateKey.HasPrivateKey)
        {
            throw new ArgumentException("the leaf certificate must carry its private key", nameof(leafWithPrivateKey));
        }

        var names = ChainVerifier.GetDnsNames(leafWithPrivateKey);
        if (names.Count == 0)
        {
            throw new ArgumentException("the leaf certificate has no DNS SAN naming an identity", nameof(leafWithPrivateKey));
        }

        return new WorkloadCredentials(leafWithPrivateKey, intermediates.ToArray(), names[0]);
    }
}

/// <summary>Something that holds the current workload credentials (the identity client, or a fixed set in tests).</summary>
public interface IWorkloadCredentialsProvider
{
    /// <summary>The current snapshot, or null before the first certificate arrived.</summary>
    WorkloadCredentials? Current { get; }
}
