using System.Security.Cryptography.X509Certificates;
using System.Text;
using Identity.Cli.Check;
using Identity.Pki.Certificates;
using Identity.Pki.Verification;
using Identity.Pki.Time;

namespace Identity.Cli.Anchors;

/// <summary>The merged anchor bundle, what was dropped, and what needs attention.</summary>
internal sealed record AnchorBundle(
    IReadOnlyList<X509Certificate2> Anchors,
    IReadOnlyList<string> Report,
    IReadOnlyList<string> Errors);

/// <summary>
/// Merges root certificates for rotation (old + new in one <c>ca-bundle.crt</c>): input order is kept, identical
/// certificates (same DER SHA-256) appear once, and only self-signed CA certificates are accepted.
/// </summary>
internal static class AnchorBundler
{
    public static AnchorBundle Build(IReadOnlyList<(string Source, string Pem)> inputs, DateTimeOffset now, bool dropExpired)
    {
        var anchors = new List<X509Certificate2>();
        var report = new List<string>();
        var errors = new List<string>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);

        foreach (var (source, pem) in inputs)
        {
            var certificates = PemReader.ReadCertificates(pem, source, out var error);
            if (error is not null)
            {
                errors.Add(error);
            }

            for (var i = 0; i < certificates.Count; i++)
            {
                var certificate = certificates[i];
                var where = certificates.Count == 1 ? source : $"{source} certificate #{i + 1}";
                if (Reject(certificate) is { } reason)
                {
                    errors.Add($"{where} ({certificate.Subject}): {reason}");
                    certificate.Dispose();
                    continue;
                }

                var fingerprint = CertificateText.Sha256(certificate);
                if (seen.TryGetValue(fingerprint, out var index))
                {
                    report.Add($"duplicate dropped: {where} ({certificate.Subject}, sha256 {fingerprint}) is anchor {index + 1}");
                    certificate.Dispose();
                    continue;
                }

                var notAfter = CertificateText.NotAfter(certificate);
                if (notAfter < now)
                {
                    if (dropExpired)
                    {
                        report.Add($"expired anchor dropped: {where} ({certificate.Subject}, sha256 {fingerprint}) expired on {GoTime.Rfc3339(notAfter)}");
                        certificate.Dispose();
                        continue;
                    }

                    report.Add($"warning: {where} ({certificate.Subject}) expired on {GoTime.Rfc3339(notAfter)}; kept (use --drop-expired to remove it)");
                }
                else if (CertificateText.NotBefore(certificate) > now)
                {
                    report.Add($"warning: {where} ({certificate.Subject}) is not valid before {GoTime.Rfc3339(CertificateText.NotBefore(certificate))}");
                }

                seen[fingerprint] = anchors.Count;
                anchors.Add(certificate);
            }
        }

        if (errors.Count == 0 && anchors.Count == 0)
        {
            errors.Add("no trust anchors left to bundle");
        }

        var described = new List<string>();
        for (var i = 0; i < anchors.Count; i++)
        {
            var anchor = anchors[i];
            var notAfter = CertificateText.NotAfter(anchor);
            var days = (int)Math.Floor((notAfter - now).TotalDays);
            described.Add($"anchor {i + 1}: {anchor.Subject}\n  sha256:    {CertificateText.Sha256(anchor)}\n  not after: {GoTime.Rfc3339(notAfter)} ({(days >= 0 ? $"{days} days left" : $"expired {-days} days ago")})");
        }

        return new AnchorBundle(anchors, described.Concat(report).ToList(), errors);
    }

    private static string? Reject(X509Certificate2 certificate)
    {
        var constraints = certificate.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault();
        if (constraints is null || !constraints.CertificateAuthority)
        {
            return "not a CA certificate (BasicConstraints CA:TRUE is missing); a trust anchor must be a CA";
        }

        if (LinkerdIssuerRules.PublicKeyAlgorithmName(certificate) is not ("ECDSA" or "RSA") and var algorithm)
        {
            return $"uses a {algorithm} key; trust anchors must use ECDSA or RSA";
        }

        if (!ChainVerifier.IsSelfSigned(certificate))
        {
            return $"not self-signed (issued by {certificate.Issuer}); a trust anchor must be a root, bundle the root that issued it instead";
        }

        return null;
    }

    /// <summary>The bundle as PEM: certificates in order, each block ending in a newline.</summary>
    public static string ToPem(IEnumerable<X509Certificate2> anchors)
    {
        var pem = new StringBuilder();
        foreach (var anchor in anchors)
        {
            pem.Append(anchor.ExportCertificatePem()).Append('\n');
        }

        return pem.ToString();
    }

    /// <summary>
    /// The <c>linkerd-identity-trust-roots</c> ConfigMap for <c>kubectl apply -f -</c>. The bundle is written as
    /// a block scalar with no trailing newline, the shape the Linkerd chart renders (<c>| trim</c>).
    /// </summary>
    public static string ToConfigMapYaml(IEnumerable<X509Certificate2> anchors, string @namespace)
    {
        var yaml = new StringBuilder();
        yaml.Append("apiVersion: v1\n")
            .Append("kind: ConfigMap\n")
            .Append("metadata:\n")
            .Append("  name: linkerd-identity-trust-roots\n")
            .Append("  namespace: ").Append(@namespace).Append('\n')
            .Append("data:\n")
            .Append("  ca-bundle.crt: |-\n");
        foreach (var line in ToPem(anchors).TrimEnd('\n').Split('\n'))
        {
            yaml.Append("    ").Append(line).Append('\n');
        }

        return yaml.ToString();
    }
}
