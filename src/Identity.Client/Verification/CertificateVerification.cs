using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Identity.Client.Verification;

/// <summary>Why a certificate chain or a peer was refused.</summary>
public enum VerificationFailure
{
    /// <summary>Verification succeeded.</summary>
    None = 0,

    /// <summary>The chain does not end at one of the trust anchors (foreign root, missing intermediate).</summary>
    UntrustedChain,

    /// <summary>A certificate of the chain is past its NotAfter.</summary>
    Expired,

    /// <summary>A certificate of the chain is before its NotBefore.</summary>
    NotYetValid,

    /// <summary>The chain is not valid for the required extended key usage (serverAuth / clientAuth).</summary>
    WrongKeyUsage,

    /// <summary>The leaf does not carry the expected identity as a DNS SAN.</summary>
    IdentityMismatch,

    /// <summary>The leaf carries no DNS SAN, so it names no identity.</summary>
    NoIdentity,

    /// <summary>The server requires a client certificate and none was sent.</summary>
    ClientCertificateRequired,

    /// <summary>The peer sent no certificate.</summary>
    NoCertificate,

    /// <summary>Any other chain error (bad signature, malformed extension...).</summary>
    InvalidChain,
}

/// <summary>The outcome of verifying a certificate chain and, optionally, its identity.</summary>
/// <param name="Failure">What failed, or <see cref="VerificationFailure.None"/>.</param>
/// <param name="Message">A precise human-readable reason (never contains secrets).</param>
/// <param name="Identity">On success, the leaf's first DNS SAN (the verified peer identity); otherwise null.</param>
public sealed record CertificateVerificationResult(VerificationFailure Failure, string Message, string? Identity)
{
    /// <summary>Whether verification succeeded.</summary>
    public bool Succeeded => Failure == VerificationFailure.None;

    internal static CertificateVerificationResult Fail(VerificationFailure failure, string message) => new(failure, message, null);
}

/// <summary>
/// Verifies chains against the trust anchors only (CustomRootTrust, no system store, no downloads, no revocation).
/// Kept small and internal so the shared Identity.Pki verification API can replace it without touching callers.
/// </summary>
internal sealed class ChainVerifier
{
    internal const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";
    internal const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";

    private readonly X509Certificate2[] _anchors;

    public ChainVerifier(IEnumerable<X509Certificate2> anchors)
    {
        _anchors = anchors.ToArray();
        if (_anchors.Length == 0)
        {
            throw new ArgumentException("at least one trust anchor is required", nameof(anchors));
        }
    }

    public IReadOnlyList<X509Certificate2> Anchors => _anchors;

    /// <summary>
    /// Verifies <paramref name="leaf"/> up to an anchor at <paramref name="now"/> for every usage in <paramref name="usages"/>,
    /// then, when <paramref name="expectedIdentity"/> is set, that it is among the leaf's DNS SANs.
    /// <paramref name="subject"/> ("peer", "leaf") starts every message.
    /// </summary>
    public CertificateVerificationResult Verify(
        X509Certificate2 leaf,
        IEnumerable<X509Certificate2> intermediates,
        DateTimeOffset now,
        IReadOnlyList<string> usages,
        string? expectedIdentity,
        string subject)
    {
        using var chain = new X509Chain();
        var policy = chain.ChainPolicy;
        policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        policy.CustomTrustStore.AddRange(_anchors);
        policy.RevocationMode = X509RevocationMode.NoCheck;
        policy.DisableCertificateDownloads = true;
        policy.VerificationTime = now.UtcDateTime;
        policy.VerificationTimeIgnored = false;
        foreach (var c in intermediates)
        {
            policy.ExtraStore.Add(c);
        }

        foreach (var usage in usages)
        {
            policy.ApplicationPolicy.Add(new Oid(usage));
        }

        var built = chain.Build(leaf);
        if (!built)
        {
            return MapChainFailure(chain, leaf, now, subject);
        }

        // CustomRootTrust accepts a chain that ends at an anchor; double-check the end really is one of ours.
        var root = chain.ChainElements[^1].Certificate;
        if (!_anchors.Any(a => a.RawDataMemory.Span.SequenceEqual(root.RawDataMemory.Span)))
        {
            return CertificateVerificationResult.Fail(VerificationFailure.UntrustedChain, $"{subject} certificate does not chain to the trust anchors");
        }

        var names = GetDnsNames(leaf);
        if (names.Count == 0)
        {
            return CertificateVerificationResult.Fail(VerificationFailure.NoIdentity, $"{subject} certificate has no DNS SAN naming an identity");
        }

        if (expectedIdentity is not null && !names.Contains(expectedIdentity, StringComparer.OrdinalIgnoreCase))
        {
            return CertificateVerificationResult.Fail(
                VerificationFailure.IdentityMismatch,
                $"{subject} identity {string.Join(",", names)} does not match expected {expectedIdentity}");
        }

        return new CertificateVerificationResult(VerificationFailure.None, "ok", expectedIdentity ?? names[0]);
    }

    private static CertificateVerificationResult MapChainFailure(X509Chain chain, X509Certificate2 leaf, DateTimeOffset now, string subject)
    {
        var all = X509ChainStatusFlags.NoError;
        foreach (var status in chain.ChainStatus)
        {
            all |= status.Status;
        }

        if ((all & X509ChainStatusFlags.NotTimeValid) != 0)
        {
            // Name the certificate that is out of its window, leaf first, since that is the usual case.
            foreach (var element in chain.ChainElements)
            {
                var c = element.Certificate;
                var which = c.RawDataMemory.Span.SequenceEqual(leaf.RawDataMemory.Span) ? subject + " certificate" : $"{subject} chain certificate '{c.Subject}'";
                if (now.UtcDateTime > c.NotAfter.ToUniversalTime())
                {
                    return CertificateVerificationResult.Fail(VerificationFailure.Expired, $"{which} expired at {c.NotAfter.ToUniversalTime():O}");
                }

                if (now.UtcDateTime < c.NotBefore.ToUniversalTime())
                {
                    return CertificateVerificationResult.Fail(VerificationFailure.NotYetValid, $"{which} is not valid before {c.NotBefore.ToUniversalTime():O}");
                }
            }

            return CertificateVerificationResult.Fail(VerificationFailure.Expired, $"{subject} certificate is outside its validity period");
        }

        const X509ChainStatusFlags untrusted = X509ChainStatusFlags.UntrustedRoot | X509ChainStatusFlags.PartialChain;
        if ((all & untrusted) != 0)
        {
            return CertificateVerificationResult.Fail(VerificationFailure.UntrustedChain, $"{subject} certificate does not chain to the trust anchors");
        }

        if ((all & (X509ChainStatusFlags.NotValidForUsage | X509ChainStatusFlags.InvalidExtension)) != 0)
        {
            return CertificateVerificationResult.Fail(VerificationFailure.WrongKeyUsage, $"{subject} certificate is not valid for the required usage (serverAuth/clientAuth): {Describe(chain)}");
        }

        return CertificateVerificationResult.Fail(VerificationFailure.InvalidChain, $"{subject} certificate chain is invalid: {Describe(chain)}");
    }

    private static string Describe(X509Chain chain) =>
        string.Join("; ", chain.ChainStatus.Select(s => s.Status + (string.IsNullOrWhiteSpace(s.StatusInformation) ? string.Empty : " (" + s.StatusInformation.Trim() + ")")));

    /// <summary>The leaf's DNS SANs in order; names with a trailing dot are skipped, as the proxy does.</summary>
    internal static List<string> GetDnsNames(X509Certificate2 certificate)
    {
        var names = new List<string>();
        foreach (var ext in certificate.Extensions)
        {
            if (ext is X509SubjectAlternativeNameExtension san)
            {
                try
                {
                    foreach (var name in san.EnumerateDnsNames())
                    {
                        if (!name.EndsWith('.'))
                        {
                            names.Add(name);
                        }
                    }
                }
                catch (Exception ex) when (ex is CryptographicException or AsnContentException)
                {
                    // A malformed SAN names nobody; callers report "no identity".
                    return [];
                }
            }
        }

        return names;
    }
}
