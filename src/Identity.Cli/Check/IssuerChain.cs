using System.Security.Cryptography.X509Certificates;
using Identity.Pki.Certificates;
using Identity.Pki.Verification;

namespace Identity.Cli.Check;

/// <summary>
/// Whether an issuer chains to a set of anchors the way the controller decides it (<see cref="LinkerdIssuerRules.VerifyChain"/>),
/// in check's words.
/// Time validity is deliberately ignored here: the validity checks report it with their own, precise message.
/// </summary>
internal static class IssuerChain
{
    /// <summary>Returns null when <paramref name="issuer"/> chains to one of <paramref name="anchors"/>, else why not.</summary>
    public static string? Verify(
        X509Certificate2 issuer,
        IEnumerable<X509Certificate2> intermediates,
        IReadOnlyCollection<X509Certificate2> anchors,
        DateTimeOffset now,
        out IReadOnlyList<X509Certificate2> path)
    {
        var result = LinkerdIssuerRules.VerifyChain(issuer, intermediates, TrustBundle.FromCertificates(anchors), now, ignoreTime: true);
        path = result.Chain;
        var top = path.Count > 0 ? path[^1] : issuer;
        return result.Status switch
        {
            ChainVerificationStatus.Valid => null,
            ChainVerificationStatus.IncompatibleUsage =>
                $"a certificate in the chain of {issuer.Subject} has an extended key usage without serverAuth, which the controller's chain verification requires",
            ChainVerificationStatus.NotCertificateAuthority or ChainVerificationStatus.PathLengthExceeded =>
                $"the chain of {issuer.Subject} violates a CA flag or path length constraint",
            ChainVerificationStatus.BadSignature => $"a signature in the chain of {issuer.Subject} is not valid",
            ChainVerificationStatus.UnknownAuthority =>
                $"certificate signed by unknown authority: the chain of {issuer.Subject} ends at {top.Subject}, issued by {top.Issuer}, which is not one of the {anchors.Count} trust anchor(s)",
            _ => "chain verification failed: " + result.Error,
        };
    }
}
