using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Identity.Cli.Check;

/// <summary>The algorithm rules of <c>linkerd check</c> for trust anchors and the issuer.</summary>
internal static class CryptoRequirements
{
    private const string EcPublicKeyOid = "1.2.840.10045.2.1";
    private const string RsaPublicKeyOid = "1.2.840.113549.1.1.1";
    private const string P256Oid = "1.2.840.10045.3.1.7";
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
                using (var rsa = certificate.GetRSAPublicKey()!)
                {
                    if (rsa.KeySize is not (2048 or 4096))
                    {
                        return $"must use a 2048 or 4096 bit RSA key, instead {rsa.KeySize} bits were used";
                    }
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
        using var ec = certificate.GetECDsaPublicKey();
        if (ec is null)
        {
            return "the ECDSA public key cannot be read";
        }

        var curve = ec.ExportParameters(includePrivateParameters: false).Curve;
        if (curve.IsNamed && curve.Oid.Value == P256Oid)
        {
            return null;
        }

        var name = curve.IsNamed
            ? curve.Oid.Value switch
            {
                "1.3.132.0.33" => "P-224",
                "1.3.132.0.34" => "P-384",
                "1.3.132.0.35" => "P-521",
                _ => curve.Oid.FriendlyName ?? curve.Oid.Value ?? "an unknown curve",
            }
            : $"an explicit {ec.KeySize}-bit curve";
        return $"must use P-256 curve for public key, instead {name} was used";
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
    public static string SignatureAlgorithmName(X509Certificate2 certificate) => certificate.SignatureAlgorithm.Value switch
    {
        EcdsaSha256Oid => "ECDSA-SHA256",
        "1.2.840.10045.4.3.3" => "ECDSA-SHA384",
        "1.2.840.10045.4.3.4" => "ECDSA-SHA512",
        "1.2.840.10045.4.1" => "ECDSA-SHA1",
        Sha256RsaOid => "SHA256-RSA",
        "1.2.840.113549.1.1.12" => "SHA384-RSA",
        "1.2.840.113549.1.1.13" => "SHA512-RSA",
        "1.2.840.113549.1.1.5" => "SHA1-RSA",
        "1.2.840.113549.1.1.10" => "RSASSA-PSS",
        "1.3.101.112" => "Ed25519",
        var other => other ?? "an unknown algorithm",
    };
}
