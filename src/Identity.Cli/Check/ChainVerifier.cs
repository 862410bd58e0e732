using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Identity.Cli.Check;

/// <summary>
/// Verifies that an issuer chains to a set of anchors, the way the controller (Go <c>x509.Verify</c> with the
/// anchors as roots, the rest of the issuer file as intermediates, and the default serverAuth usage) would.
/// Time validity is deliberately ignored here: the validity checks report it with their own, precise message.
/// </summary>
internal static class ChainVerifier
{
    private static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1", "Server Authentication");

    /// <summary>Returns null when <paramref name="issuer"/> chains to one of <paramref name="anchors"/>, else why not.</summary>
    public static string? Verify(
        X509Certificate2 issuer,
        IEnumerable<X509Certificate2> intermediates,
        IReadOnlyCollection<X509Certificate2> anchors,
        DateTimeOffset now,
        out IReadOnlyList<X509Certificate2> path)
    {
        path = [];
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(anchors.ToArray());
        chain.ChainPolicy.ExtraStore.AddRange(intermediates.ToArray());
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.VerificationTime = now.UtcDateTime;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.IgnoreNotTimeValid | X509VerificationFlags.IgnoreCtlNotTimeValid;
        chain.ChainPolicy.ApplicationPolicy.Add(ServerAuth);

        var built = chain.Build(issuer);
        path = chain.ChainElements.Select(e => e.Certificate).ToList();
        if (built)
        {
            return null;
        }

        var flags = chain.ChainStatus.Select(s => s.Status).Aggregate(X509ChainStatusFlags.NoError, (a, b) => a | b);
        var top = chain.ChainElements[^1].Certificate;
        if (flags.HasFlag(X509ChainStatusFlags.NotValidForUsage))
        {
            return $"a certificate in the chain of {issuer.Subject} has an extended key usage without serverAuth, which the controller's chain verification requires";
        }

        if (flags.HasFlag(X509ChainStatusFlags.InvalidBasicConstraints))
        {
            return $"the chain of {issuer.Subject} violates a CA flag or path length constraint";
        }

        if (flags.HasFlag(X509ChainStatusFlags.NotSignatureValid))
        {
            return $"a signature in the chain of {issuer.Subject} is not valid";
        }

        if (flags.HasFlag(X509ChainStatusFlags.PartialChain) || flags.HasFlag(X509ChainStatusFlags.UntrustedRoot))
        {
            return $"certificate signed by unknown authority: the chain of {issuer.Subject} ends at {top.Subject}, issued by {top.Issuer}, which is not one of the {anchors.Count} trust anchor(s)";
        }

        return "chain verification failed: " + string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Distinct());
    }
}
