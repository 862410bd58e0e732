using System.Security.Cryptography.X509Certificates;
using Identity.Pki.Keys;
using Identity.Pki.Pem;
using Identity.Pki.Time;
using Identity.Pki.Verification;
using Identity.Pki.X509;

namespace Identity.Pki.Certificates;

/// <summary>
/// What Linkerd accepts as issuer credentials, in one place: the server's loader decides with these rules whether
/// to serve an issuer, and <c>identity check</c> reports them (adding its own diagnostics on top). The texts are
/// Linkerd's (controller, <c>linkerd check</c> and install validation), because operators search for them.
/// Each rule returns null when it holds, else the reason; callers add their own prefix.
/// </summary>
public static class LinkerdIssuerRules
{
    private const string EcPublicKeyOid = "1.2.840.10045.2.1";
    private const string RsaPublicKeyOid = "1.2.840.113549.1.1.1";
    private const string EcdsaSha256Oid = "1.2.840.10045.4.3.2";
    private const string Sha256RsaOid = "1.2.840.113549.1.1.11";
    private const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";

    private static readonly ChainVerificationOptions ControllerChain = new() { RequiredUsages = [ServerAuthOid] };
    private static readonly ChainVerificationOptions ControllerChainAnyTime = new() { RequiredUsages = [ServerAuthOid], IgnoreTimeValidity = true };

    /// <summary>
    /// The leading CERTIFICATE blocks, as Go's <c>DecodePEMCertificates</c> reads them: the first block of another
    /// type ends the list silently. Empty when the text starts with no certificate; each caller words that case
    /// (the controller says "not a PEM certificate").
    /// </summary>
    /// <exception cref="PkiException">A block is malformed or a certificate cannot be parsed.</exception>
    public static IReadOnlyList<X509Certificate2> DecodeCertificates(string pem, string source)
    {
        var certificates = new List<X509Certificate2>();
        try
        {
            foreach (var block in PemCodec.Decode(pem, source).TakeWhile(b => b.Label == PemLabels.Certificate))
            {
                var loaded = CertificateDecoder.Load(block.Der);
                certificates.Add(loaded.Value ?? throw new PkiException($"certificate #{certificates.Count + 1} cannot be parsed: {loaded.Error}"));
            }

            return certificates;
        }
        catch
        {
            foreach (var certificate in certificates)
            {
                certificate.Dispose();
            }

            throw;
        }
    }

    /// <summary>
    /// The issuer key from the first PEM block only, as the controller reads it: SEC1, PKCS#1 or unencrypted PKCS#8,
    /// EC or RSA. Decoding itself is <see cref="PrivateKeyPem"/>'s, the reader every command uses.
    /// </summary>
    /// <exception cref="PkiException">Linkerd's reason the key is refused; never key material.</exception>
    public static PrivateKey DecodeKey(string pem, string source)
    {
        var blocks = PemCodec.Decode(pem, source);
        if (blocks.Count == 0)
        {
            throw new PkiException("no PEM block found in the key file");
        }

        var label = blocks[0].Label;
        if (label is not (PemLabels.EcPrivateKey or PemLabels.RsaPrivateKey or PemLabels.PrivateKey))
        {
            throw new PkiException($"unsupported block type: '{label}'");
        }

        // The first block is a key block, so the reader's "first private key" is exactly that block.
        var key = PrivateKeyPem.Read(System.Text.Encoding.ASCII.GetBytes(pem), source, password: null);
        if (key.Kind is not (KeyKind.Ec or KeyKind.Rsa))
        {
            var description = key.Description;
            key.Dispose();
            throw new PkiException($"unsupported PKCS#8 encoded private key type: '{description}', only ECDSA and RSA private keys are supported");
        }

        return key;
    }

    /// <summary>Go's <c>tls.X509KeyPair</c> check.</summary>
    public static string? KeyMismatch(X509Certificate2 certificate, PrivateKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.Matches(certificate) ? null : "tls: Public and private key do not match";
    }

    /// <summary>The controller refuses an issuer without basicConstraints CA:TRUE.</summary>
    public static string? NotCertificateAuthority(X509Certificate2 certificate) =>
        IsCertificateAuthority(certificate) ? null : "it must be an intermediate-CA, but it is not";

    public static bool IsCertificateAuthority(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return certificate.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault() is { CertificateAuthority: true };
    }

    /// <summary>Validity at <paramref name="now"/> in <c>linkerd check</c>'s and install validation's words.</summary>
    public static string? ValidityProblem(X509Certificate2 certificate, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var notBefore = new DateTimeOffset(certificate.NotBefore.ToUniversalTime(), TimeSpan.Zero);
        var notAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);
        if (notBefore > now)
        {
            return $"not valid before: {GoTime.Rfc3339(notBefore)}";
        }

        return notAfter < now ? $"not valid anymore. Expired on {GoTime.Rfc3339(notAfter)}" : null;
    }

    /// <summary>
    /// The issuer signs the leaves proxies verify, so its key is ECDSA P-256 (older proxies refused P-521 as
    /// UnknownIssuer); it may be signed with ECDSA-SHA256 or SHA256-RSA, so an RSA root is fine.
    /// </summary>
    public static string? IssuerAlgorithmProblem(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (certificate.PublicKey.Oid.Value != EcPublicKeyOid)
        {
            return $"must use ECDSA for public key algorithm, instead {PublicKeyAlgorithmName(certificate)} was used";
        }

        return CurveProblem(certificate) ?? SignatureProblem(certificate, "must be signed by an ECDSA P-256 key");
    }

    /// <summary>
    /// An EC issuer on a curve other than P-256 (the one rule of <see cref="IssuerAlgorithmProblem"/> the server
    /// applies when loading: an RSA issuer loads in Linkerd and fails at Certify, and so it does here).
    /// </summary>
    public static string? IssuerCurveProblem(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return certificate.PublicKey.Oid.Value == EcPublicKeyOid ? CurveProblem(certificate) : null;
    }

    /// <summary>Anchors: ECDSA P-256, or RSA 2048/4096; signed with ECDSA-SHA256 or SHA256-RSA.</summary>
    public static string? AnchorAlgorithmProblem(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        switch (certificate.PublicKey.Oid.Value)
        {
            case EcPublicKeyOid:
                return CurveProblem(certificate) ?? SignatureProblem(certificate, "must be signed by an ECDSA P-256 or RSA key");
            case RsaPublicKeyOid:
                var rsa = PublicKeyInfo.Decode(certificate.PublicKey.ExportSubjectPublicKeyInfo());
                if (rsa.Value is not { Problem: null } key)
                {
                    return $"the RSA public key is invalid: {rsa.Error ?? rsa.Value!.Problem}";
                }

                if (key.Bits is not (2048 or 4096))
                {
                    return $"must use a 2048 or 4096 bit RSA key, instead {key.Bits} bits were used";
                }

                return SignatureProblem(certificate, "must be signed by an ECDSA P-256 or RSA key");
            default:
                return $"must use ECDSA or RSA for public key algorithm, instead {PublicKeyAlgorithmName(certificate)} was used";
        }
    }

    /// <summary>
    /// Go's <c>x509.Verify</c> as the controller calls it: the anchors as roots, the rest of the issuer file as
    /// intermediates, and Go's default usage (serverAuth) required along the path. <paramref name="ignoreTime"/>
    /// leaves validity to <see cref="ValidityProblem"/>, for callers that report it in its own words.
    /// </summary>
    public static ChainVerificationResult VerifyChain(
        X509Certificate2 issuer, IEnumerable<X509Certificate2> intermediates, TrustBundle anchors, DateTimeOffset now, bool ignoreTime = false) =>
        ChainVerifier.Verify(issuer, intermediates, anchors, now, host: null, ignoreTime ? ControllerChainAnyTime : ControllerChain);

    /// <summary>Go's names for public key algorithms.</summary>
    public static string PublicKeyAlgorithmName(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return certificate.PublicKey.Oid.Value switch
        {
            EcPublicKeyOid => "ECDSA",
            RsaPublicKeyOid => "RSA",
            "1.3.101.112" => "Ed25519",
            "1.2.840.10040.4.1" => "DSA",
            var other => other ?? "an unknown algorithm",
        };
    }

    private static string? CurveProblem(X509Certificate2 certificate)
    {
        var key = PublicKeyInfo.Decode(certificate.PublicKey.ExportSubjectPublicKeyInfo());
        if (key.Value is not { } ec)
        {
            return $"the ECDSA public key cannot be read: {key.Error}";
        }

        if (ec.Curve == EllipticCurve.P256 && ec.Problem is null)
        {
            return null;
        }

        return ec.CurveOid is null
            ? "must use P-256 curve for public key, instead an explicit curve was used"
            : ec.Curve == EllipticCurve.P256
                ? $"the ECDSA public key is invalid: {ec.Problem}"
                : $"must use P-256 curve for public key, instead {EllipticCurve.DisplayName(ec.CurveOid)} was used";
    }

    private static string? SignatureProblem(X509Certificate2 certificate, string requirement) =>
        certificate.SignatureAlgorithm.Value is EcdsaSha256Oid or Sha256RsaOid
            ? null
            : $"{requirement}, instead {(certificate.SignatureAlgorithm.Value is { } oid ? SignatureAlgorithm.NameOf(oid) : "an unknown algorithm")} was used";
}
