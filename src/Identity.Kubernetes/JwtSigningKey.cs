using System.Security.Cryptography;
using Identity.Pki.X509;
using Microsoft.IdentityModel.Tokens;

namespace Identity.Kubernetes;

/// <summary>
/// One key of a JWKS, decoded and validated once when the key set is loaded, with the one JWS algorithm it can
/// verify: ES256 for a P-256 key, RS256 for an RSA key (RFC 7518 §3.3, §3.4). Tokens are then verified through the
/// project's one signature verifier (<see cref="SignatureAlgorithm"/>), as CSRs are, without importing the key again.
/// </summary>
public sealed class JwtSigningKey
{
    /// <summary>RS256's smallest key, as IdentityModel's verification minimum.</summary>
    public const int MinRsaBits = 1024;

    private static readonly SignatureAlgorithm EcdsaSha256 = SignatureAlgorithm.FromOid("1.2.840.10045.4.3.2")!;
    private static readonly SignatureAlgorithm RsaSha256 = SignatureAlgorithm.FromOid("1.2.840.113549.1.1.11")!;

    private readonly PublicKeyInfo _key;
    private readonly SignatureAlgorithm _signature;

    private JwtSigningKey(string? keyId, string algorithm, PublicKeyInfo key, SignatureAlgorithm signature)
    {
        KeyId = keyId;
        Algorithm = algorithm;
        _key = key;
        _signature = signature;
    }

    /// <summary>The key's <c>kid</c>, or null.</summary>
    public string? KeyId { get; }

    /// <summary>The JWS <c>alg</c> this key verifies: <c>ES256</c> or <c>RS256</c>.</summary>
    public string Algorithm { get; }

    /// <summary>
    /// The key for a key set's entry (a <see cref="JsonWebKey"/> or the platform key IdentityModel made of it), or
    /// null when it cannot verify ES256 or RS256: another key type or curve, a point off the curve, a short RSA key.
    /// </summary>
    public static JwtSigningKey? From(SecurityKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        try
        {
            var spki = key switch
            {
                JsonWebKey { Kty: "EC", Crv: "P-256" } jwk when jwk.X is not null && jwk.Y is not null =>
                    ExportEc(new ECParameters
                    {
                        Curve = ECCurve.NamedCurves.nistP256,
                        Q = new ECPoint { X = Base64UrlEncoder.DecodeBytes(jwk.X), Y = Base64UrlEncoder.DecodeBytes(jwk.Y) },
                    }),
                JsonWebKey { Kty: "RSA" } jwk when jwk.N is not null && jwk.E is not null =>
                    ExportRsa(new RSAParameters { Modulus = Base64UrlEncoder.DecodeBytes(jwk.N), Exponent = Base64UrlEncoder.DecodeBytes(jwk.E) }),
                ECDsaSecurityKey ec => ec.ECDsa.ExportSubjectPublicKeyInfo(),
                RsaSecurityKey { Rsa: { } rsa } => rsa.ExportSubjectPublicKeyInfo(),
                RsaSecurityKey rsa => ExportRsa(rsa.Parameters),
                _ => null,
            };
            return spki is null ? null : FromSubjectPublicKeyInfo(key.KeyId, spki);
        }
        catch (Exception e) when (e is CryptographicException or FormatException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>Whether <paramref name="signature"/> (the decoded third part) signs <paramref name="signingInput"/> (the first two parts and their dot).</summary>
    public bool Verify(ReadOnlySpan<byte> signingInput, ReadOnlySpan<byte> signature) =>
        _signature.VerifyP1363(_key, signingInput, signature);

    private static JwtSigningKey? FromSubjectPublicKeyInfo(string? keyId, byte[] spki)
    {
        var decoded = PublicKeyInfo.Decode(spki);
        if (decoded.Value is not { Problem: null } key)
        {
            return null;
        }

        var id = string.IsNullOrEmpty(keyId) ? null : keyId;
        return key switch
        {
            { Kind: PublicKeyKind.Ec, Curve.Name: "P-256" } => new JwtSigningKey(id, SecurityAlgorithms.EcdsaSha256, key, EcdsaSha256),
            { Kind: PublicKeyKind.Rsa } when key.Bits >= MinRsaBits => new JwtSigningKey(id, SecurityAlgorithms.RsaSha256, key, RsaSha256),
            _ => null,
        };
    }

    private static byte[] ExportEc(ECParameters parameters)
    {
        using var key = ECDsa.Create(parameters);
        return key.ExportSubjectPublicKeyInfo();
    }

    private static byte[] ExportRsa(RSAParameters parameters)
    {
        using var key = RSA.Create(parameters);
        return key.ExportSubjectPublicKeyInfo();
    }
}
