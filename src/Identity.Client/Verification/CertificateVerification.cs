using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Identity.Pki.Time;
using Identity.Pki.Verification;

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
/// Verifies chains against the trust anchors only, with the shared <see cref="Pki.Verification.ChainVerifier"/>
/// (CustomRootTrust, no system store, no downloads, no revocation), and maps its outcome to the client's
/// <see cref="VerificationFailure"/> reasons and messages. Then checks the peer identity (exact DNS SAN, not
/// Go host matching: identities are names, not host patterns).
/// </summary>
internal sealed class ChainVerifier
{
    internal const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";
    internal const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";

    private static readonly ChainVerificationOptions ServerAuth = new() { RequiredUsages = [ServerAuthOid] };
    private static readonly ChainVerificationOptions ClientAuth = new() { RequiredUsages = [ClientAuthOid] };
    private static readonly ChainVerificationOptions BothUsages = new() { RequiredUsages = [ServerAuthOid, ClientAuthOid] };

    private readonly X509Certificate2[] _anchors;
    private readonly TrustBundle _bundle;

    public ChainVerifier(IEnumerable<X509Certificate2> anchors)
    {
        _anchors = anchors.ToArray();
        if (_anchors.Length == 0)
        {
            throw new ArgumentException("at least one trust anchor is required", nameof(anchors));
        }

        // Built once: every handshake then costs one chain build, not a bundle copy.
        _bundle = TrustBundle.FromCertificates(_anchors);
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
        var result = Pki.Verification.ChainVerifier.Verify(leaf, intermediates, _bundle, now, host: null, OptionsFor(usages));
        if (!result.IsValid)
        {
            return MapChainFailure(result, leaf, subject);
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

    /// <summary>The shared options for the usage sets the client asks for; no allocation per handshake.</summary>
    private static ChainVerificationOptions OptionsFor(IReadOnlyList<string> usages) => usages switch
    {
        [ServerAuthOid] => ServerAuth,
        [ClientAuthOid] => ClientAuth,
        [ServerAuthOid, ClientAuthOid] => BothUsages,
        _ => new ChainVerificationOptions { RequiredUsages = usages.ToArray() },
    };

    private static CertificateVerificationResult MapChainFailure(ChainVerificationResult result, X509Certificate2 leaf, string subject)
    {
        var certificate = result.Certificate ?? leaf;
        var which = certificate.RawDataMemory.Span.SequenceEqual(leaf.RawDataMemory.Span)
            ? subject + " certificate"
            : $"{subject} chain certificate '{certificate.Subject}'";
        return result.Status switch
        {
            ChainVerificationStatus.Expired => CertificateVerificationResult.Fail(
                VerificationFailure.Expired, $"{which} expired at {GoTime.Rfc3339(certificate.NotAfter.ToUniversalTime())}"),
            ChainVerificationStatus.NotYetValid => CertificateVerificationResult.Fail(
                VerificationFailure.NotYetValid, $"{which} is not valid before {GoTime.Rfc3339(certificate.NotBefore.ToUniversalTime())}"),
            ChainVerificationStatus.UnknownAuthority => CertificateVerificationResult.Fail(
                VerificationFailure.UntrustedChain, $"{subject} certificate does not chain to the trust anchors"),
            ChainVerificationStatus.IncompatibleUsage => CertificateVerificationResult.Fail(
                VerificationFailure.WrongKeyUsage,
                $"{subject} certificate is not valid for the required usage (serverAuth/clientAuth): {which}: {result.Error}"),
            _ => CertificateVerificationResult.Fail(
                VerificationFailure.InvalidChain, $"{subject} certificate chain is invalid: {result.Error}"),
        };
    }

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
