using System.Security.Cryptography.X509Certificates;
using System.Text;
using Identity.Pki.Certificates;
using Identity.Pki.Keys;
using Identity.Pki.Time;

namespace Identity.Cli.Check;

/// <summary>
/// The <c>linkerd-identity</c> checks of <c>linkerd check</c> (same descriptions, severities and thresholds),
/// followed by two checks Linkerd lacks: the key matches the certificate, and the issuer is fit to issue.
/// </summary>
internal static class IdentityChecks
{
    public const string Category = "linkerd-identity";

    public const string ConfigValid = "certificate config is valid";
    public const string AnchorsAlgorithm = "trust anchors are using supported crypto algorithm";
    public const string AnchorsValidity = "trust anchors are within their validity period";
    public const string IssuerAlgorithm = "issuer cert is using supported crypto algorithm";
    public const string IssuerValidity = "issuer cert is within its validity period";
    public const string IssuedByAnchor = "issuer cert is issued by the trust anchor";
    public const string KeyMatches = "issuer key matches certificate";
    public const string GoCompatiblePem = "trust anchors and issuer cert PEM parse like linkerd-identity does";
    public const string FitForIssuing = "issuer cert is a CA with a path length and key usage fit for issuing";

    public static string AnchorsNotExpiringSoon(int days) => $"trust anchors are valid for at least {days} days";

    public static string IssuerNotExpiringSoon(int days) => $"issuer cert is valid for at least {days} days";

    /// <summary>
    /// Runs the checks in order. A failed fatal check ends the list, as in <c>linkerd check</c>. When the
    /// material parses, <paramref name="loaded"/> receives it (the caller disposes it) for cross-cluster checks.
    /// </summary>
    public static IReadOnlyList<CheckResult> Run(
        IdentityMaterial material,
        string category,
        DateTimeOffset now,
        int warningDays,
        out LoadedIdentity? loaded)
    {
        var results = new List<CheckResult>();
        loaded = Load(material, out var configErrors);
        if (loaded is null)
        {
            results.Add(new(category, ConfigValid, CheckStatus.Error, string.Join('\n', configErrors), "l5d-identity-cert-config-valid"));
            return results;
        }

        results.Add(new(category, ConfigValid, CheckStatus.Ok,
            $"{loaded.Anchors.Count} trust anchor(s) from {material.AnchorsSource}; issuer {loaded.Issuer.Subject} from {material.IssuerCertificateSource}",
            "l5d-identity-cert-config-valid"));

        var steps = new Func<LoadedIdentity, (string Name, CheckSeverity Severity, string? Hint, string? Failure, string OkMessage)>[]
        {
            l => (AnchorsAlgorithm, CheckSeverity.Fatal, "l5d-identity-trustAnchors-use-supported-crypto",
                ListFailures("Invalid anchors:", l.Anchors, LinkerdIssuerRules.AnchorAlgorithmProblem), "all trust anchors use ECDSA P-256 or RSA 2048/4096"),
            l => (AnchorsValidity, CheckSeverity.Fatal, "l5d-identity-trustAnchors-are-time-valid",
                ListFailures("Invalid anchors:", l.Anchors, c => LinkerdIssuerRules.ValidityProblem(c, now)), $"all trust anchors are valid at {GoTime.Rfc3339(now)}"),
            l => (AnchorsNotExpiringSoon(warningDays), CheckSeverity.Warning, "l5d-identity-trustAnchors-not-expiring-soon",
                ListFailures("Anchors expiring soon:", l.Anchors, c => ExpiringSoon(c, now, warningDays)), EarliestExpiry(l.Anchors, now)),
            l => (IssuerAlgorithm, CheckSeverity.Fatal, "l5d-identity-issuer-cert-uses-supported-crypto",
                LinkerdIssuerRules.IssuerAlgorithmProblem(l.Issuer), "the issuer uses ECDSA P-256"),
            l => (IssuerValidity, CheckSeverity.Fatal, "l5d-identity-issuer-cert-is-time-valid",
                IssuerFile(l, c => LinkerdIssuerRules.ValidityProblem(c, now)), $"the issuer is valid at {GoTime.Rfc3339(now)}"),
            l => (IssuerNotExpiringSoon(warningDays), CheckSeverity.Warning, "l5d-identity-issuer-cert-not-expiring-soon",
                IssuerFile(l, c => ExpiringSoon(c, now, warningDays)), EarliestExpiry([l.Issuer, .. l.IssuerChain], now)),
            l => (IssuedByAnchor, CheckSeverity.Error, "l5d-identity-issuer-cert-issued-by-trust-anchor",
                IssuedByAnchors(l, now, out var okMessage), okMessage),
            l => (KeyMatches, CheckSeverity.Error, null,
                KeyMatchesCertificate(l.Issuer, l.IssuerKey), "the private key belongs to the issuer certificate"),
            l => (FitForIssuing, CheckSeverity.Error, null,
                FitToIssue(l, now), "the issuer is a CA allowed to sign leaf certificates"),
            _ => (GoCompatiblePem, CheckSeverity.Warning, null,
                GoPemProblems(material), "no trailing data after the last PEM block"),
        };

        foreach (var step in steps)
        {
            var (name, severity, hint, failure, okMessage) = step(loaded);
            if (failure is null)
            {
                results.Add(new(category, name, CheckStatus.Ok, okMessage, hint));
                continue;
            }

            results.Add(new(category, name, severity == CheckSeverity.Warning ? CheckStatus.Warning : CheckStatus.Error, failure, hint));
            if (severity == CheckSeverity.Fatal)
            {
                break;
            }
        }

        return results;
    }

    /// <summary>Parses the material, collecting every problem so the user fixes them in one pass.</summary>
    public static LoadedIdentity? Load(IdentityMaterial material, out IReadOnlyList<string> errors)
    {
        var problems = new List<string>(material.Problems);
        IReadOnlyList<X509Certificate2> anchors = [];
        IReadOnlyList<X509Certificate2> issuerFile = [];
        PrivateKey? key = null;

        if (material.AnchorsPem is not null)
        {
            anchors = PemReader.ReadCertificates(material.AnchorsPem, $"trust anchors ({material.AnchorsSource})", out var error);
            AddIfNotNull(problems, error);
        }

        if (material.IssuerCertificatePem is not null)
        {
            issuerFile = PemReader.ReadCertificates(material.IssuerCertificatePem, $"issuer certificate ({material.IssuerCertificateSource})", out var error);
            AddIfNotNull(problems, error);
        }

        if (material.IssuerKeyPem is not null)
        {
            key = PemReader.ReadPrivateKey(material.IssuerKeyPem, $"issuer key ({material.IssuerKeySource})", out var error);
            AddIfNotNull(problems, error);
        }

        if (problems.Count > 0 || key is null || anchors.Count == 0 || issuerFile.Count == 0)
        {
            foreach (var certificate in anchors.Concat(issuerFile))
            {
                certificate.Dispose();
            }

            key?.Dispose();
            errors = problems;
            return null;
        }

        errors = [];
        return new LoadedIdentity(anchors, issuerFile[0], issuerFile.Skip(1).ToList(), key);
    }

    public static string? ExpiringSoon(X509Certificate2 certificate, DateTimeOffset now, int days)
    {
        var notAfter = CertificateText.NotAfter(certificate);
        return now.AddDays(days) > notAfter ? $"will expire on {GoTime.Rfc3339(notAfter)}" : null;
    }

    private static string EarliestExpiry(IReadOnlyList<X509Certificate2> certificates, DateTimeOffset now)
    {
        var first = certificates.MinBy(CertificateText.NotAfter)!;
        var notAfter = CertificateText.NotAfter(first);
        return $"expires on {GoTime.Rfc3339(notAfter)} ({(int)Math.Floor((notAfter - now).TotalDays)} days left)";
    }

    /// <summary>
    /// Applies a time check to the issuer and then to the chain after it in the issuer file: the controller's
    /// verification fails on any expired certificate there, and it clamps leaves to the earliest expiry.
    /// The issuer's own failure keeps Linkerd's exact wording.
    /// </summary>
    private static string? IssuerFile(LoadedIdentity loaded, Func<X509Certificate2, string?> check)
    {
        var lines = new List<string>();
        if (check(loaded.Issuer) is { } issuerFailure)
        {
            lines.Add(issuerFailure);
        }

        foreach (var certificate in loaded.IssuerChain)
        {
            if (check(certificate) is { } failure)
            {
                lines.Add($"chain certificate {certificate.Subject} in the issuer file: {failure}");
            }
        }

        return lines.Count == 0 ? null : string.Join('\n', lines);
    }

    private static string? GoPemProblems(IdentityMaterial material)
    {
        var problems = new List<string>();
        if (material.AnchorsPem is not null && PemReader.GoDecoderProblem(material.AnchorsPem) is { } anchors)
        {
            problems.Add($"trust anchors ({material.AnchorsSource}): {anchors}");
        }

        if (material.IssuerCertificatePem is not null && PemReader.GoDecoderProblem(material.IssuerCertificatePem) is { } issuer)
        {
            problems.Add($"issuer certificate ({material.IssuerCertificateSource}): {issuer}");
        }

        return problems.Count == 0 ? null : string.Join('\n', problems);
    }

    private static string? ListFailures(string heading, IReadOnlyList<X509Certificate2> certificates, Func<X509Certificate2, string?> check)
    {
        var lines = new StringBuilder();
        foreach (var certificate in certificates)
        {
            if (check(certificate) is { } failure)
            {
                lines.Append('\n').Append("* ").Append(CertificateText.Short(certificate)).Append(' ').Append(failure);
            }
        }

        return lines.Length == 0 ? null : heading + lines;
    }

    private static string? IssuedByAnchors(LoadedIdentity loaded, DateTimeOffset now, out string okMessage)
    {
        var failure = IssuerChain.Verify(loaded.Issuer, loaded.IssuerChain, loaded.Anchors, now, out var path);
        okMessage = failure is null ? $"chains to trust anchor {CertificateText.Describe(path[^1])}" : string.Empty;
        return failure;
    }

    /// <summary>The controller's key/cert match, with which file is wrong spelled out.</summary>
    public static string? KeyMatchesCertificate(X509Certificate2 certificate, PrivateKey key) =>
        LinkerdIssuerRules.KeyMismatch(certificate, key) is { } mismatch
            ? $"{mismatch} (the issuer key does not belong to the issuer certificate)"
            : null;

    private static string? FitToIssue(LoadedIdentity loaded, DateTimeOffset now)
    {
        var problems = new List<string>();
        var issuer = loaded.Issuer;
        if (LinkerdIssuerRules.NotCertificateAuthority(issuer) is { } notCa)
        {
            problems.Add($"issuer cert is not a CA (BasicConstraints CA:TRUE is required; the controller refuses it: {notCa})");
        }

        var usage = issuer.Extensions.OfType<X509KeyUsageExtension>().FirstOrDefault();
        if (usage is null)
        {
            problems.Add("issuer cert has no KeyUsage extension; a CA certificate must assert keyCertSign");
        }
        else if (!usage.KeyUsages.HasFlag(X509KeyUsageFlags.KeyCertSign))
        {
            problems.Add($"issuer cert KeyUsage ({usage.KeyUsages}) lacks keyCertSign, so leaves it signs are not valid");
        }

        // Each CA above the issuer must allow the CAs below it: the certificate at position i of the path
        // (issuer = 0) has i CAs under it before the leaf, so a pathLenConstraint below i forbids this path.
        IssuerChain.Verify(issuer, loaded.IssuerChain, loaded.Anchors, now, out var path);
        for (var i = 1; i < path.Count; i++)
        {
            var above = path[i].Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault();
            if (above is { HasPathLengthConstraint: true } && above.PathLengthConstraint < i)
            {
                problems.Add($"{path[i].Subject} has pathLenConstraint {above.PathLengthConstraint} but {i} CA certificate(s) below it on the path to leaves");
            }
        }

        return problems.Count == 0 ? null : string.Join('\n', problems);
    }

    private static void AddIfNotNull(List<string> list, string? item)
    {
        if (item is not null)
        {
            list.Add(item);
        }
    }
}
