using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Identity.Cli.Check;

/// <summary>
/// Cross-cluster checks over the anchors each cluster actually mounts (the trust-roots ConfigMap, not
/// <c>linkerd-config</c>; linkerd/linkerd2#11668), and over each issuer against every other cluster's anchors,
/// which is what a peer proxy verifies during cross-cluster mTLS.
/// </summary>
internal static class MulticlusterChecks
{
    public const string Category = "linkerd-identity-multicluster";
    public const string ShareAnchors = "clusters share trust anchors";
    public const string IssuersTrusted = "each cluster's issuer chains to the trust anchors of every other cluster";

    /// <param name="clusters">Context name and its loaded credentials, or null when they could not be loaded.</param>
    /// <param name="now">Verification time.</param>
    public static IReadOnlyList<CheckResult> Run(IReadOnlyList<(string Context, LoadedIdentity? Identity)> clusters, DateTimeOffset now)
    {
        var unreadable = clusters.Where(c => c.Identity is null).Select(c => c.Context).ToList();
        if (unreadable.Count > 0)
        {
            var message = $"cannot compare clusters: the identity credentials of {string.Join(", ", unreadable)} could not be loaded (see above)";
            return
            [
                new(Category, ShareAnchors, CheckStatus.Error, message, "l5d-multicluster-clusters-share-anchors"),
                new(Category, IssuersTrusted, CheckStatus.Error, message),
            ];
        }

        var loaded = clusters.Select(c => (c.Context, Identity: c.Identity!)).ToList();
        return [CompareAnchors(loaded), CrossVerify(loaded, now)];
    }

    private static CheckResult CompareAnchors(IReadOnlyList<(string Context, LoadedIdentity Identity)> clusters)
    {
        // Union in first-seen order so the report lists anchors the same way on every run.
        var union = new List<X509Certificate2>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var certificate in clusters.SelectMany(c => c.Identity.Anchors))
        {
            if (seen.Add(CertificateText.Sha256(certificate)))
            {
                union.Add(certificate);
            }
        }

        var details = new StringBuilder();
        foreach (var (context, identity) in clusters)
        {
            var own = identity.Anchors.Select(CertificateText.Sha256).ToHashSet(StringComparer.Ordinal);
            foreach (var missing in union.Where(a => !own.Contains(CertificateText.Sha256(a))))
            {
                var holders = clusters.Where(c => c.Identity.Anchors.Any(a => CertificateText.Sha256(a) == CertificateText.Sha256(missing)))
                    .Select(c => c.Context);
                details.Append('\n').Append($"* {context} lacks {CertificateText.Describe(missing)}, present in {string.Join(", ", holders)}");
            }
        }

        return details.Length == 0
            ? new(Category, ShareAnchors, CheckStatus.Ok,
                $"{string.Join(", ", clusters.Select(c => c.Context))} mount the same {union.Count} trust anchor(s)",
                "l5d-multicluster-clusters-share-anchors")
            : new(Category, ShareAnchors, CheckStatus.Error,
                "the clusters mount different trust anchors (configmap linkerd-identity-trust-roots):" + details,
                "l5d-multicluster-clusters-share-anchors");
    }

    private static CheckResult CrossVerify(IReadOnlyList<(string Context, LoadedIdentity Identity)> clusters, DateTimeOffset now)
    {
        var failures = new StringBuilder();
        foreach (var (context, identity) in clusters)
        {
            foreach (var (other, otherIdentity) in clusters.Where(c => c.Context != context))
            {
                var failure = IssuerChain.Verify(identity.Issuer, identity.IssuerChain, otherIdentity.Anchors, now, out _);
                if (failure is not null)
                {
                    failures.Append('\n').Append($"* the issuer of {context} is not trusted by {other}: {failure}");
                }
            }
        }

        return failures.Length == 0
            ? new(Category, IssuersTrusted, CheckStatus.Ok, "every issuer verifies against the anchors of every other cluster")
            : new(Category, IssuersTrusted, CheckStatus.Error,
                "proxies in one cluster will reject the certificates issued in another:" + failures);
    }
}
