namespace Identity.Pki.Keys;

/// <summary>What key to generate.</summary>
/// <param name="Kind">Key family.</param>
/// <param name="Curve">For <see cref="KeyKind.Ec"/>: <c>P-256</c>, <c>P-384</c> or <c>P-521</c>; otherwise ignored.</param>
/// <param name="RsaBits">For <see cref="KeyKind.Rsa"/>: modulus size in bits (at least 2048).</param>
public sealed record KeySpec(KeyKind Kind, string Curve = KeySpec.P256, int RsaBits = KeySpec.DefaultRsaBits)
{
    public const string P256 = "P-256";
    public const string P384 = "P-384";
    public const string P521 = "P-521";
    public const string Ed25519Curve = "Ed25519";

    /// <summary>step's default RSA size.</summary>
    public const int DefaultRsaBits = 2048;

    /// <summary>The smallest RSA key this library generates or accepts for signing.</summary>
    public const int MinRsaBits = 2048;

    /// <summary>step's default key: EC P-256.</summary>
    public static KeySpec Default { get; } = new(KeyKind.Ec);

    public static KeySpec Ec(string curve) => new(KeyKind.Ec, curve);

    public static KeySpec Rsa(int bits = DefaultRsaBits) => new(KeyKind.Rsa, RsaBits: bits);

    public static KeySpec Ed25519 { get; } = new(KeyKind.Ed25519, Ed25519Curve);
}
