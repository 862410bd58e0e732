using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Identity.Pki.Keys;
using Identity.Pki.X509;

namespace Identity.Pki.Certificates;

/// <summary>
/// Creates certificates structurally identical to <c>step certificate create</c>'s four profiles: same
/// extensions, order, criticality and encodings; 128-bit random serial; SKI on every certificate; AKI
/// (key id only) when issuer ≠ subject; signature algorithm from the signer's key.
/// </summary>
public static class StepCertificateFactory
{
    private static readonly Oid ServerAuth = new(Oids.ServerAuth);
    private static readonly Oid ClientAuth = new(Oids.ClientAuth);

    /// <summary>Creates a certificate.</summary>
    /// <param name="template">Contents.</param>
    /// <param name="signerKey">The issuer's key; for root-ca / self-signed, the subject's own key.</param>
    /// <param name="issuer">The issuer certificate; null for root-ca / self-signed.</param>
    /// <returns>The certificate (public part only).</returns>
    /// <exception cref="PkiException">Inconsistent input (e.g. an issuer for a self-signed profile).</exception>
    public static X509Certificate2 Create(CertificateTemplate template, PrivateKey signerKey, X509Certificate2? issuer)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(signerKey);
        if (template.Profile.IsSelfSigned() != (issuer is null))
        {
            throw new PkiException(template.Profile.IsSelfSigned()
                ? $"profile '{template.Profile.Name()}' is self-signed and takes no issuer"
                : $"profile '{template.Profile.Name()}' requires an issuer certificate and key");
        }

        if (template.Profile.IsSelfSigned() && !signerKey.Matches(template.SubjectPublicKeyInfo))
        {
            throw new PkiException("a self-signed certificate must be signed by its own key");
        }

        var notBefore = TruncateToSeconds(template.NotBefore);
        var notAfter = TruncateToSeconds(template.NotAfter);
        if (notAfter < notBefore)
        {
            throw new PkiException("the certificate's notAfter is before its notBefore");
        }

        var subject = SubjectName.CommonName(template.Subject);
        var publicKey = PublicKey.CreateFromSubjectPublicKeyInfo(template.SubjectPublicKeyInfo, out _);
        var key = PublicKeyInfo.Decode(template.SubjectPublicKeyInfo).ValueOrThrow("public key");
        var keyOid = key.AlgorithmOid;
        var request = new CertificateRequest(subject, publicKey, signerKey.SignatureHash);
        var extensions = request.CertificateExtensions;

        // Go's buildCertExtensions order: KU, EKU, BC, SKI, AKI, SAN.
        var isCa = template.Profile.IsCa();
        extensions.Add(new X509KeyUsageExtension(
            isCa
                ? X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign
                : keyOid == Oids.RsaEncryption
                    ? X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment
                    : X509KeyUsageFlags.DigitalSignature,
            critical: true));
        if (!isCa)
        {
            extensions.Add(new X509EnhancedKeyUsageExtension([ServerAuth, ClientAuth], critical: false));
        }
        else
        {
            extensions.Add(new X509BasicConstraintsExtension(
                certificateAuthority: true,
                hasPathLengthConstraint: true,
                pathLengthConstraint: template.Profile == StepProfile.RootCa ? 1 : 0,
                critical: true));
        }

#pragma warning disable CA5350 // SHA-1 key identifiers are what step/Go write (RFC 5280 §4.2.1.2 method 1); not a security use.
        extensions.Add(new X509SubjectKeyIdentifierExtension(SHA1.HashData(key.KeyBits.Span), critical: false));
#pragma warning restore CA5350

        var issuerName = issuer?.SubjectName ?? subject;
        if (issuer is not null && !issuerName.RawData.AsSpan().SequenceEqual(subject.RawData) && SubjectKeyId(issuer) is { } aki)
        {
            extensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromSubjectKeyIdentifier(aki));
        }

        if (!isCa)
        {
            var sans = template.ExactSans ?? SubjectAlternativeNames.Classify(template.Sans.Count > 0 ? template.Sans : [template.Subject]);
            if (!sans.IsEmpty)
            {
                extensions.Add(new X509Extension(Oids.SubjectAltName, sans.Encode(), critical: false));
            }
        }

        var generator = signerKey.CreateSignatureGenerator();
        return request.Create(issuerName, generator, notBefore, notAfter, NewSerialNumber());
    }

    /// <summary>
    /// A uniformly random serial in [0, 2^128) like step's, as the minimal positive DER INTEGER content
    /// (16 bytes, 17 with a leading zero when the top bit is set, fewer when leading bytes are zero).
    /// </summary>
    public static byte[] NewSerialNumber()
    {
        var value = new BigInteger(RandomNumberGenerator.GetBytes(16), isUnsigned: true, isBigEndian: true);
        if (value.IsZero)
        {
            // Zero is not a valid serial (RFC 5280 §4.1.2.2); the chance is 2^-128 but costs nothing to exclude.
            value = BigInteger.One;
        }

        return value.ToByteArray(isUnsigned: false, isBigEndian: true);
    }

    /// <summary>The certificate's subjectKeyIdentifier, or null when it has none.</summary>
    public static byte[]? SubjectKeyId(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        foreach (var extension in certificate.Extensions)
        {
            if (extension is X509SubjectKeyIdentifierExtension ski)
            {
                return ski.SubjectKeyIdentifierBytes.ToArray();
            }
        }

        return null;
    }

    internal static DateTimeOffset TruncateToSeconds(DateTimeOffset value)
    {
        var utc = value.ToUniversalTime();
        return new DateTimeOffset(utc.Ticks - (utc.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
    }
}
