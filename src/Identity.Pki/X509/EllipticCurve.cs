using System.Numerics;
using System.Security.Cryptography;

namespace Identity.Pki.X509;

/// <summary>
/// The elliptic curves this project accepts anywhere (keys, CSRs, certificates): the one table of curve names,
/// OIDs and sizes. Their field parameters come from the platform once, so the on-curve check below uses exactly
/// the curve the platform will compute with.
/// </summary>
public sealed class EllipticCurve
{
    private static readonly Lazy<EllipticCurve> P256Curve = new(() => new("P-256", "1.2.840.10045.3.1.7", 32, ECCurve.NamedCurves.nistP256));
    private static readonly Lazy<EllipticCurve> P384Curve = new(() => new("P-384", "1.3.132.0.34", 48, ECCurve.NamedCurves.nistP384));
    private static readonly Lazy<EllipticCurve> P521Curve = new(() => new("P-521", "1.3.132.0.35", 66, ECCurve.NamedCurves.nistP521));

    private readonly BigInteger _p;
    private readonly BigInteger _a;
    private readonly BigInteger _b;

    private EllipticCurve(string name, string oid, int coordinateSize, ECCurve curve)
    {
        Name = name;
        Oid = oid;
        CoordinateSize = coordinateSize;
        Curve = curve;
        using var key = ECDsa.Create(curve);
        Explicit = key.ExportExplicitParameters(includePrivateParameters: false).Curve;
        _p = Unsigned(Explicit.Prime!);
        _a = Unsigned(Explicit.A!);
        _b = Unsigned(Explicit.B!);
    }

    /// <summary>P-256 (secp256r1).</summary>
    public static EllipticCurve P256 => P256Curve.Value;

    /// <summary>P-384 (secp384r1).</summary>
    public static EllipticCurve P384 => P384Curve.Value;

    /// <summary>P-521 (secp521r1).</summary>
    public static EllipticCurve P521 => P521Curve.Value;

    /// <summary>The NIST name, as Go and step print it (P-256).</summary>
    public string Name { get; }

    /// <summary>The namedCurve OID.</summary>
    public string Oid { get; }

    /// <summary>Bytes per coordinate in an uncompressed point.</summary>
    public int CoordinateSize { get; }

    /// <summary>The size of the curve in bits (521 for P-521).</summary>
    public int Bits => Name switch { "P-521" => 521, _ => CoordinateSize * 8 };

    /// <summary>The platform's curve.</summary>
    public ECCurve Curve { get; }

    /// <summary>The curve's explicit parameters (prime, a, b, generator, order), as the platform has them.</summary>
    public ECCurve Explicit { get; }

    /// <summary>The curve with this OID, or null for any curve not on the allow-list.</summary>
    public static EllipticCurve? FromOid(string? oid) => oid switch
    {
        "1.2.840.10045.3.1.7" => P256,
        "1.3.132.0.34" => P384,
        "1.3.132.0.35" => P521,
        _ => null,
    };

    /// <summary>
    /// The name to show for a namedCurve OID in messages and inspect output: the allowed curves, and P-224, which
    /// Go names but nothing here accepts; otherwise the OID.
    /// </summary>
    public static string DisplayName(string? oid) =>
        FromOid(oid)?.Name ?? (oid == "1.3.132.0.33" ? "P-224" : oid ?? "an unnamed curve");

    /// <summary>The curve with this name (P-256, P-384, P-521), or null.</summary>
    public static EllipticCurve? FromName(string? name) => name switch
    {
        "P-256" => P256,
        "P-384" => P384,
        "P-521" => P521,
        _ => null,
    };

    /// <summary>
    /// Why an uncompressed-point encoding is not a valid public key on this curve, or null when it is. These
    /// curves have prime order (cofactor 1), so a point that is on the curve and not the point at infinity is a
    /// valid public key: no further, costlier validation is needed.
    /// </summary>
    public string? CheckPoint(ReadOnlySpan<byte> point)
    {
        if (point.IsEmpty)
        {
            return "the EC point is empty";
        }

        if (point.Length == 1 && point[0] == 0)
        {
            return "the EC point is the point at infinity";
        }

        if (point[0] is 0x02 or 0x03)
        {
            return "compressed EC points are not supported";
        }

        if (point[0] != 0x04)
        {
            return $"unknown EC point format 0x{point[0]:x2}";
        }

        if (point.Length != 1 + (2 * CoordinateSize))
        {
            return $"an uncompressed {Name} point must be {1 + (2 * CoordinateSize)} bytes, not {point.Length}";
        }

        var x = new BigInteger(point.Slice(1, CoordinateSize), isUnsigned: true, isBigEndian: true);
        var y = new BigInteger(point.Slice(1 + CoordinateSize, CoordinateSize), isUnsigned: true, isBigEndian: true);
        if (x >= _p || y >= _p)
        {
            return $"the EC point's coordinates are not below the {Name} field prime";
        }

        var left = y * y % _p;
        var right = ((((x * x % _p) + _a) % _p * x) + _b) % _p;
        return left == right ? null : $"the EC point is not on the {Name} curve";
    }

    private static BigInteger Unsigned(byte[] value) => new(value, isUnsigned: true, isBigEndian: true);
}
