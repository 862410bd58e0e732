using System.Security.Cryptography.X509Certificates;
using Identity.Pki.Keys;
using Identity.Pki.Time;

namespace Identity.Pki.Certificates;

/// <summary>
/// Checks that a certificate and key may issue: the key matches, the certificate is a CA allowed to sign
/// certificates, and it is valid now. step skips these checks; issuing from a leaf or an expired CA only
/// produces certificates nobody can verify, so we refuse early with a precise message.
/// </summary>
public static class IssuerValidation
{
    /// <exception cref="PkiException">The first problem found.</exception>
    public static void EnsureCanIssue(
        X509Certificate2 issuer,
        PrivateKey key,
        StepProfile profile,
        DateTimeOffset now,
        string certificateSource,
        string keySource)
    {
        ArgumentNullException.ThrowIfNull(issuer);
        ArgumentNullException.ThrowIfNull(key);
        if (!key.Matches(issuer))
        {
            throw new PkiException($"the key in {keySource} does not match the certificate in {certificateSource}");
        }

        var basicConstraints = issuer.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault();
        if (basicConstraints is not { CertificateAuthority: true })
        {
            throw new PkiException($"{certificateSource} is not a CA certificate (it has no basicConstraints CA:TRUE)");
        }

        var keyUsage = issuer.Extensions.OfType<X509KeyUsageExtension>().FirstOrDefault();
        if (keyUsage is not null && !keyUsage.KeyUsages.HasFlag(X509KeyUsageFlags.KeyCertSign))
        {
            throw new PkiException($"{certificateSource} is not allowed to sign certificates (its key usage lacks Certificate Sign)");
        }

        if (profile == StepProfile.IntermediateCa && basicConstraints is { HasPathLengthConstraint: true, PathLengthConstraint: 0 })
        {
            throw new PkiException($"{certificateSource} has pathlen 0 and cannot issue an intermediate CA");
        }

        var notBefore = new DateTimeOffset(issuer.NotBefore.ToUniversalTime(), TimeSpan.Zero);
        var notAfter = new DateTimeOffset(issuer.NotAfter.ToUniversalTime(), TimeSpan.Zero);
        if (now > notAfter)
        {
            throw new PkiException($"{certificateSource} has expired (it was valid until {GoTime.Rfc3339(notAfter)})");
        }

        if (now < notBefore)
        {
            throw new PkiException($"{certificateSource} is not valid yet (it is valid from {GoTime.Rfc3339(notBefore)})");
        }
    }
}
