namespace Identity.Pki.Certificates;

/// <summary>What to put in a step-profile certificate.</summary>
/// <param name="Profile">The step profile.</param>
/// <param name="Subject">The common name (the whole subject).</param>
/// <param name="Sans">SAN entries; when empty, leaf and self-signed certificates get <paramref name="Subject"/>. Ignored for CAs.</param>
/// <param name="SubjectPublicKeyInfo">DER SubjectPublicKeyInfo of the certified key.</param>
/// <param name="NotBefore">Start of validity (sub-seconds are truncated).</param>
/// <param name="NotAfter">End of validity (sub-seconds are truncated).</param>
public sealed record CertificateTemplate(
    StepProfile Profile,
    string Subject,
    IReadOnlyList<string> Sans,
    byte[] SubjectPublicKeyInfo,
    DateTimeOffset NotBefore,
    DateTimeOffset NotAfter)
{
    /// <summary>
    /// Already-classified SANs (e.g. copied from a CSR), used instead of classifying <see cref="Sans"/> so that
    /// a DNS name such as <c>host:8080</c> keeps its type.
    /// </summary>
    public SubjectAlternativeNames? ExactSans { get; init; }
}
