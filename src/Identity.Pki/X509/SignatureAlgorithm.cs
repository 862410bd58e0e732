using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace Identity.Pki.X509;

/// <summary>
/// The signature algorithms this project verifies: the one table of signature OIDs, with Go's names, and the one
/// verifier for certificates and CSRs alike. Anything not listed is unsupported before any platform call.
/// </summary>
public sealed record SignatureAlgorithm(string Oid, string Name, PublicKeyKind KeyKind, HashAlgorithmName Hash)
{
    private static readonly SignatureAlgorithm[] All =
    [
        new("1.2.840.10045.4.1", "ECDSA-SHA1", PublicKeyKind.Ec, HashAlgorithmName.SHA1),
        new("1.2.840.10045.4.3.2", "ECDSA-SHA256", PublicKeyKind.Ec, HashAlgorithmName.SHA256),
        new("1.2.840.10045.4.3.3", "ECDSA-SHA384", PublicKeyKind.Ec, HashAlgorithmName.SHA384),
        new("1.2.840.10045.4.3.4", "ECDSA-SHA512", PublicKeyKind.Ec, HashAlgorithmName.SHA512),
        new("1.2.840.113549.1.1.5", "SHA1-RSA", PublicKeyKind.Rsa, HashAlgorithmName.SHA1),
        new("1.2.840.113549.1.1.11", "SHA256-RSA", PublicKeyKind.Rsa, HashAlgorithmName.SHA256),
        new("1.2.840.113549.1.1.12", "SHA384-RSA", PublicKeyKind.Rsa, HashAlgorithmName.SHA384),
        new("1.2.840.113549.1.1.13", "SHA512-RSA", PublicKeyKind.Rsa, HashAlgorithmName.SHA512),
        new("1.3.101.112", "Ed25519", PublicKeyKind.Ed25519, default),
    ];

    // Names Go prints for algorithms we recognise but do not verify.
    private static readonly Dictionary<string, string> OtherNames = new(StringComparer.Ordinal)
    {
        ["1.2.840.113549.1.1.2"] = "MD2-RSA",
        ["1.2.840.113549.1.1.4"] = "MD5-RSA",
        ["1.2.840.113549.1.1.10"] = "SHA256-RSAPSS",
        ["1.2.840.10040.4.3"] = "DSA-SHA1",
        ["2.16.840.1.101.3.4.3.2"] = "DSA-SHA256",
    };

    /// <summary>True for the SHA-1 based algorithms, which this CA refuses in anything it is asked to sign.</summary>
    public bool IsSha1 => Hash == HashAlgorithmName.SHA1;

    /// <summary>The verifiable algorithm with this OID, or null.</summary>
    public static SignatureAlgorithm? FromOid(string? oid) => Array.Find(All, a => a.Oid == oid);

    /// <summary>Go's name for a signature algorithm OID (ECDSA-SHA256), or the OID itself.</summary>
    public static string NameOf(string oid) =>
        FromOid(oid)?.Name ?? (OtherNames.TryGetValue(oid, out var name) ? name : oid);

    /// <summary>
    /// Whether <paramref name="signature"/> over <paramref name="data"/> verifies with <paramref name="key"/>. False
    /// for a key with a <see cref="PublicKeyInfo.Problem"/> or of another kind than the algorithm's, and for a
    /// signature that is not even well-formed.
    /// </summary>
    public bool Verify(PublicKeyInfo key, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        ArgumentNullException.ThrowIfNull(key);
        return VerifyDer(key, data, signature);
    }

    /// <summary>
    /// <see cref="Verify(PublicKeyInfo, ReadOnlySpan{byte}, ReadOnlySpan{byte})"/> for an ECDSA signature in the
    /// IEEE P1363 form JWS uses (r and s as two big-endian integers of the curve's size, RFC 7518 §3.4): false for
    /// any other length. Other algorithms' signatures have one form and are verified as they are.
    /// </summary>
    public bool VerifyP1363(PublicKeyInfo key, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (KeyKind != PublicKeyKind.Ec)
        {
            return VerifyDer(key, data, signature);
        }

        if (key.Curve is not { } curve || signature.Length != 2 * curve.CoordinateSize)
        {
            return false;
        }

        // The libcrypto verifier takes DER: SEQUENCE { INTEGER r, INTEGER s }, at most 3 + 2 * (3 + 66) bytes.
        Span<byte> der = stackalloc byte[144];
        var length = 3;
        length += WriteInteger(signature[..curve.CoordinateSize], der[length..]);
        length += WriteInteger(signature[curve.CoordinateSize..], der[length..]);
        var content = length - 3;
        if (content < 128)
        {
            der[1] = 0x30;
            der[2] = (byte)content;
            return VerifyDer(key, data, der[1..length]);
        }

        der[0] = 0x30;
        der[1] = 0x81;
        der[2] = (byte)content;
        return VerifyDer(key, data, der[..length]);
    }

    // One DER INTEGER for an unsigned big-endian value: leading zeros dropped, one put back when the top bit is set.
    private static int WriteInteger(ReadOnlySpan<byte> value, Span<byte> destination)
    {
        var start = 0;
        while (start < value.Length - 1 && value[start] == 0)
        {
            start++;
        }

        var magnitude = value[start..];
        var pad = magnitude[0] >= 0x80 ? 1 : 0;
        destination[0] = 0x02;
        destination[1] = (byte)(pad + magnitude.Length);
        destination[2] = 0;
        magnitude.CopyTo(destination[(2 + pad)..]);
        return 2 + pad + magnitude.Length;
    }

    private bool VerifyDer(PublicKeyInfo key, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        if (key.Problem is not null || key.Kind != KeyKind)
        {
            return false;
        }

        try
        {
            switch (KeyKind)
            {
                case PublicKeyKind.Ec when OpenSslEcdsaVerifier.IsAvailable:
                    return OpenSslEcdsaVerifier.Verify(key, Hash, data, signature);

                case PublicKeyKind.Ec:
                    using (var ec = key.CreateEcdsa())
                    {
                        return ec.VerifyData(data, signature, Hash, DSASignatureFormat.Rfc3279DerSequence);
                    }

                case PublicKeyKind.Rsa:
                    using (var rsa = key.CreateRsa())
                    {
                        return rsa.VerifyData(data, signature, Hash, RSASignaturePadding.Pkcs1);
                    }

                default:
                    // The BCL has no Ed25519; BouncyCastle verifies it.
                    var verifier = new Ed25519Signer();
                    verifier.Init(false, new Ed25519PublicKeyParameters(key.KeyBits.Span));
                    verifier.BlockUpdate(data);
                    return verifier.VerifySignature(signature.ToArray());
            }
        }
        catch (CryptographicException)
        {
            // The key was validated above, so this is the platform refusing the signature bytes themselves.
            return false;
        }
    }
}
