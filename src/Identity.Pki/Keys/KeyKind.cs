namespace Identity.Pki.Keys;

/// <summary>Key families, named as step's <c>--kty</c> values name them (EC, RSA, OKP).</summary>
public enum KeyKind
{
    /// <summary>ECDSA over a NIST curve (P-256, P-384, P-521).</summary>
    Ec,

    /// <summary>RSA, public exponent 65537.</summary>
    Rsa,

    /// <summary>Ed25519 (step's <c>--kty OKP</c>).</summary>
    Ed25519,
}
