using System.Security.Cryptography.X509Certificates;
using Identity.Pki.X509;

namespace Identity.Cli.Check;

/// <summary>The algorithm rules of <c>linkerd check</c> for trust anchors and the issuer.</summary>
internal static class CryptoRequirements
{
    private const string EcPublicKeyOid = "1.2.840.10045.2.1";
    private const string RsaPublicKeyOid = "1.2.840.113549.1.1.1";
    private const string EcdsaSha256Oid = "1.2.840.10045.4.3.2";
    private const string Sha256RsaOid = "1.2.840.113549.1.1.11";

    /// <summary>Anchors: ECDSA P-256, or RSA 2048/4096; signed with ECDSA-SHA256 or SHA256-RSA.</summary>
    public static string? CheckAnchor(X509Certificate2 certificate)
    {
        switch (certificate.PublicKey.Oid.Value)
        {
            case EcPublicKeyOid:
                return CheckP256(certificate) ?? CheckSignature(certificate, "must be signed by an ECDSA P-256 or RSA key");
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

                return CheckSignature(certificate, "must be signed by an ECDSA P-256 or RSA key");
            default:
                return $"must use ECDSA or RSA for public key algorithm, instead {PublicKeyAlgorithmName(certificate)} was used";
        }
    }

    /// <summary>Issuer: ECDSA P-256 (proxies sign nothing else); signed with ECDSA-SHA256 or SHA256-RSA.</summary>
    public static string? CheckIssuer(X509Certificate2 certificate)
    {
        if (certificate.PublicKey.Oid.Value != EcPublicKeyOid)
        {
            return $"must use ECDSA for public key algorithm, instead {PublicKeyAlgorithmName(certificate)} was used";
        }

        return CheckP256(certificate) ?? CheckSignature(certificate, "must be signed by an ECDSA P-256 key");
    }

    private static string? CheckP256(X509Certificate2 certificate)
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

    private static string? CheckSignature(X509Certificate2 certificate, string requirement) =>
        certificate.SignatureAlgorithm.Value is EcdsaSha256Oid or Sha256RsaOid
            ? null
            : $"{requirement}, instead {SignatureAlgorithmName(certificate)} was used";

    /// <summary>Go's names for public key algorithms.</summary>
    public static string PublicKeyAlgorithmName(X509Certificate2 certificate) => certificate.PublicKey.Oid.Value switch
    {
        EcPublicKeyOid => "ECDSA",
        RsaPublicKeyOid => "RSA",
        "1.3.101.112" => "Ed25519",
        "1.2.840.10040.4.1" => "DSA",
        var other => other ?? "an unknown algorithm",
    };

    /// <summary>Go's names for signature algorithms (<c>x509.SignatureAlgorithm.String()</c>).</summary>
    public static string SignatureAlgorithmName(X509Certificate2 certificate) =>
        certificate.SignatureAlgorithm.Value is { } oid ? SignatureAlgorithm.NameOf(oid) : "an unknown algorithm";
}
