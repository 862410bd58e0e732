using System.Formats.Asn1;
using System.Numerics;
using System.Security.Cryptography;

namespace Identity.Pki.X509;

/// <summary>The public-key algorithms this project knows.</summary>
public enum PublicKeyKind
{
    /// <summary>An algorithm outside the allow-list.</summary>
    Unsupported,

    /// <summary>id-ecPublicKey on a named curve.</summary>
    Ec,

    /// <summary>rsaEncryption.</summary>
    Rsa,

    /// <summary>id-Ed25519.</summary>
    Ed25519,
}

/// <summary>
/// A SubjectPublicKeyInfo decoded and checked against the allow-list before any platform call: named curves
/// P-256/P-384/P-521 with an uncompressed point on the curve, RSA with a positive modulus and exponent, Ed25519
/// with 32 bytes. <see cref="Problem"/> says what disqualifies a key that is well-formed DER; the platform only
/// ever sees keys without one.
/// </summary>
public sealed class PublicKeyInfo
{
    private const string EcPublicKeyOid = "1.2.840.10045.2.1";
    private const string RsaEncryptionOid = "1.2.840.113549.1.1.1";
    private const string RsaPssOid = "1.2.840.113549.1.1.10";
    private const string Ed25519Oid = "1.3.101.112";

    /// <summary>The largest RSA modulus accepted: verifying with a huge one is a cheap way to burn our CPU.</summary>
    public const int MaxRsaBits = 16384;

    private PublicKeyInfo()
    {
    }

    /// <summary>The SubjectPublicKeyInfo as encoded.</summary>
    public ReadOnlyMemory<byte> Der { get; private init; }

    /// <summary>The algorithm OID.</summary>
    public string AlgorithmOid { get; private init; } = "";

    /// <summary>The algorithm parameters as encoded, if any.</summary>
    public ReadOnlyMemory<byte>? Parameters { get; private init; }

    /// <summary>The subjectPublicKey BIT STRING content.</summary>
    public ReadOnlyMemory<byte> KeyBits { get; private init; }

    /// <summary>The algorithm, when it is on the allow-list.</summary>
    public PublicKeyKind Kind { get; private init; }

    /// <summary>For EC keys, the namedCurve OID (whether or not it is allowed).</summary>
    public string? CurveOid { get; private init; }

    /// <summary>For EC keys on an allowed curve, the curve.</summary>
    public EllipticCurve? Curve { get; private init; }

    /// <summary>For RSA keys, the modulus without leading zeros.</summary>
    public byte[]? Modulus { get; private init; }

    /// <summary>For RSA keys, the public exponent without leading zeros.</summary>
    public byte[]? Exponent { get; private init; }

    /// <summary>Why this key cannot be used (unsupported algorithm or curve, invalid point, bad RSA numbers); null when it can.</summary>
    public string? Problem { get; private init; }

    /// <summary>The key size in bits: the curve size, the modulus length, 256 for Ed25519, 0 when unknown.</summary>
    public int Bits => Kind switch
    {
        PublicKeyKind.Ec => Curve?.Bits ?? 0,
        PublicKeyKind.Rsa => Modulus is { } m ? (int)BitLength(m) : 0,
        PublicKeyKind.Ed25519 => 256,
        _ => 0,
    };

    /// <summary>Go's name of the algorithm (ECDSA, RSA, Ed25519), or the OID.</summary>
    public string AlgorithmName => Kind switch
    {
        PublicKeyKind.Ec => "ECDSA",
        PublicKeyKind.Rsa => "RSA",
        PublicKeyKind.Ed25519 => "Ed25519",
        _ => AlgorithmOid,
    };

    /// <summary>Decodes a SubjectPublicKeyInfo; structural damage is an error, an unusable key a <see cref="Problem"/>.</summary>
    public static Decoded<PublicKeyInfo> Decode(ReadOnlyMemory<byte> der)
    {
        string oid;
        ReadOnlyMemory<byte>? parameters;
        ReadOnlyMemory<byte> bits;
        try
        {
            var reader = new AsnReader(der, AsnEncodingRules.DER);
            var spki = reader.ReadSequence();
            reader.ThrowIfNotEmpty();
            (oid, parameters) = DerReading.ReadAlgorithm(spki);
            var whole = DerReading.ReadWholeBytes(spki);
            spki.ThrowIfNotEmpty();
            if (whole is null)
            {
                return Decoded.Fail<PublicKeyInfo>("the public key BIT STRING has unused bits");
            }

            bits = whole.Value;
        }
        catch (AsnContentException)
        {
            return Decoded.Fail<PublicKeyInfo>("malformed SubjectPublicKeyInfo");
        }

        var info = oid switch
        {
            EcPublicKeyOid => Ec(der, parameters, bits),
            RsaEncryptionOid => Rsa(der, parameters, bits),
            Ed25519Oid => new PublicKeyInfo
            {
                Der = der, AlgorithmOid = oid, Parameters = parameters, KeyBits = bits, Kind = PublicKeyKind.Ed25519,
                Problem = parameters is not null ? "Ed25519 public keys take no parameters"
                    : bits.Length != 32 ? $"an Ed25519 public key must be 32 bytes, not {bits.Length}"
                    : !Org.BouncyCastle.Math.EC.Rfc8032.Ed25519.ValidatePublicKeyPartial(bits.Span) ? "the Ed25519 public key is not a point on the curve"
                    : null,
            },
            _ => new PublicKeyInfo
            {
                Der = der, AlgorithmOid = oid, Parameters = parameters, KeyBits = bits, Kind = PublicKeyKind.Unsupported,
                Problem = oid == RsaPssOid ? "RSA-PSS public keys are not supported" : $"unsupported public key algorithm {oid}",
            },
        };
        return Decoded.Ok<PublicKeyInfo>(info);
    }

    /// <summary>The platform ECDSA key; only for an EC key without a <see cref="Problem"/>.</summary>
    public ECDsa CreateEcdsa()
    {
        RequireUsable(PublicKeyKind.Ec);
        var size = Curve!.CoordinateSize;
        var point = KeyBits.Span;
        return ECDsa.Create(new ECParameters
        {
            Curve = Curve.Curve,
            Q = new ECPoint { X = point.Slice(1, size).ToArray(), Y = point.Slice(1 + size, size).ToArray() },
        });
    }

    /// <summary>The platform RSA key; only for an RSA key without a <see cref="Problem"/>.</summary>
    public RSA CreateRsa()
    {
        RequireUsable(PublicKeyKind.Rsa);
        return RSA.Create(new RSAParameters { Modulus = Modulus, Exponent = Exponent });
    }

    private void RequireUsable(PublicKeyKind kind)
    {
        if (Kind != kind || Problem is not null)
        {
            throw new InvalidOperationException($"not a usable {kind} key: {Problem ?? AlgorithmName}");
        }
    }

    private static PublicKeyInfo Ec(ReadOnlyMemory<byte> der, ReadOnlyMemory<byte>? parameters, ReadOnlyMemory<byte> bits)
    {
        string? curveOid = null;
        string? problem = null;
        if (parameters is not { } p)
        {
            problem = "the EC public key has no curve parameters";
        }
        else
        {
            try
            {
                var reader = new AsnReader(p, AsnEncodingRules.DER);
                var tag = reader.PeekTag();
                if (tag.HasSameClassAndValue(Asn1Tag.ObjectIdentifier))
                {
                    curveOid = reader.ReadObjectIdentifier();
                    reader.ThrowIfNotEmpty();
                }
                else
                {
                    problem = "explicit or implicit EC curve parameters are not supported; use a named curve";
                }
            }
            catch (AsnContentException)
            {
                problem = "malformed EC curve parameters";
            }
        }

        var curve = EllipticCurve.FromOid(curveOid);
        if (problem is null && curve is null)
        {
            problem = $"unsupported elliptic curve {curveOid}: only P-256, P-384 and P-521 are supported";
        }

        problem ??= curve!.CheckPoint(bits.Span);
        return new PublicKeyInfo
        {
            Der = der, AlgorithmOid = EcPublicKeyOid, Parameters = parameters, KeyBits = bits, Kind = PublicKeyKind.Ec,
            CurveOid = curveOid, Curve = curve, Problem = problem,
        };
    }

    private static PublicKeyInfo Rsa(ReadOnlyMemory<byte> der, ReadOnlyMemory<byte>? parameters, ReadOnlyMemory<byte> bits)
    {
        byte[]? modulus = null, exponent = null;
        string? problem = null;
        if (parameters is { } p && !p.Span.SequenceEqual(new byte[] { 0x05, 0x00 }))
        {
            problem = "RSA public key parameters must be NULL";
        }

        try
        {
            var reader = new AsnReader(bits, AsnEncodingRules.DER);
            var sequence = reader.ReadSequence();
            reader.ThrowIfNotEmpty();
            var n = sequence.ReadIntegerBytes().Span;
            var e = sequence.ReadIntegerBytes().Span;
            sequence.ThrowIfNotEmpty();
            modulus = TrimLeadingZeros(n);
            exponent = TrimLeadingZeros(e);
            if (problem is null)
            {
                problem = (n[0] & 0x80) != 0 || modulus.Length == 0 ? "the RSA modulus is not a positive number"
                    : (e[0] & 0x80) != 0 || exponent.Length == 0 ? "the RSA public exponent is not a positive number"
                    : exponent.Length > 4 || (exponent.Length == 4 && exponent[0] >= 0x80) ? "the RSA public exponent is too large"
                    : (exponent[^1] & 1) == 0 || (exponent.Length == 1 && exponent[0] < 3) ? "the RSA public exponent must be odd and at least 3"
                    : (modulus[^1] & 1) == 0 ? "the RSA modulus is even"
                    : BitLength(modulus) > MaxRsaBits ? $"RSA keys larger than {MaxRsaBits} bits are not supported"
                    : null;
            }
        }
        catch (AsnContentException)
        {
            problem ??= "malformed RSA public key";
        }

        return new PublicKeyInfo
        {
            Der = der, AlgorithmOid = RsaEncryptionOid, Parameters = parameters, KeyBits = bits, Kind = PublicKeyKind.Rsa,
            Modulus = modulus, Exponent = exponent, Problem = problem,
        };
    }

    private static long BitLength(byte[] unsigned) => new BigInteger(unsigned, isUnsigned: true, isBigEndian: true).GetBitLength();

    private static byte[] TrimLeadingZeros(ReadOnlySpan<byte> value)
    {
        var start = value.IndexOfAnyExcept((byte)0);
        return start < 0 ? [] : value[start..].ToArray();
    }
}
