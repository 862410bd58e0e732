using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Identity.Pki.X509;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace Identity.Pki.Keys;

/// <summary>
/// A private key that can sign certificates: EC (P-256/384/521) and RSA through the platform crypto, Ed25519
/// through BouncyCastle (the BCL has no Ed25519).
/// </summary>
public abstract class PrivateKey : IDisposable
{
    private protected PrivateKey()
    {
    }

    /// <summary>Key family.</summary>
    public abstract KeyKind Kind { get; }

    /// <summary><c>P-256</c>, <c>P-384</c>, <c>P-521</c>, <c>Ed25519</c>; null for RSA.</summary>
    public abstract string? Curve { get; }

    /// <summary>Key size in bits (curve size for EC, modulus size for RSA, 256 for Ed25519).</summary>
    public abstract int KeySize { get; }

    /// <summary>A short description such as <c>EC P-256</c> or <c>RSA 2048</c>.</summary>
    public string Description => Kind switch
    {
        KeyKind.Ec => $"EC {Curve}",
        KeyKind.Rsa => $"RSA {KeySize}",
        _ => "Ed25519",
    };

    /// <summary>The DER SubjectPublicKeyInfo, as Go's <c>MarshalPKIXPublicKey</c> writes it.</summary>
    public abstract byte[] ExportSubjectPublicKeyInfo();

    /// <summary>The hash used when this key signs a certificate (step / Go rules).</summary>
    public abstract HashAlgorithmName SignatureHash { get; }

    /// <summary>A signature generator producing the algorithm identifier Go would choose for this key.</summary>
    public abstract X509SignatureGenerator CreateSignatureGenerator();

    /// <summary>Generates a new key.</summary>
    /// <exception cref="PkiException">Unsupported curve or RSA size below <see cref="KeySpec.MinRsaBits"/>.</exception>
    public static PrivateKey Generate(KeySpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        switch (spec.Kind)
        {
            case KeyKind.Ec:
                return new EcPrivateKey(ECDsa.Create(CurveFor(spec.Curve)));
            case KeyKind.Rsa:
                if (spec.RsaBits < KeySpec.MinRsaBits)
                {
                    throw new PkiException($"the size of the RSA key should be at least {KeySpec.MinRsaBits} bits");
                }

                if (spec.RsaBits > 16384 || spec.RsaBits % 8 != 0)
                {
                    throw new PkiException($"invalid RSA key size {spec.RsaBits}: use a multiple of 8 between 2048 and 16384");
                }

                // RSA.Create(bits) uses the platform generator, whose public exponent is 65537.
                return new RsaPrivateKey(RSA.Create(spec.RsaBits));
            case KeyKind.Ed25519:
                return new Ed25519PrivateKey(new Ed25519PrivateKeyParameters(new SecureRandom()));
            default:
                throw new PkiException($"unsupported key type {spec.Kind}");
        }
    }

    /// <summary>Whether this key is the private half of the public key in <paramref name="certificate"/>.</summary>
    public bool Matches(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return Matches(certificate.PublicKey.ExportSubjectPublicKeyInfo());
    }

    /// <summary>Whether this key is the private half of <paramref name="subjectPublicKeyInfo"/>.</summary>
    public bool Matches(ReadOnlySpan<byte> subjectPublicKeyInfo)
    {
        var other = PublicKeyInfo.Decode(subjectPublicKeyInfo.ToArray()).ValueOrThrow("public key");
        var mine = PublicKeyInfo.Decode(ExportSubjectPublicKeyInfo()).ValueOrThrow("public key");
        return other.AlgorithmOid == mine.AlgorithmOid && CryptographicOperations.FixedTimeEquals(other.KeyBits.Span, mine.KeyBits.Span);
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }

    internal static ECCurve CurveFor(string curve) => curve switch
    {
        KeySpec.P256 => ECCurve.NamedCurves.nistP256,
        KeySpec.P384 => ECCurve.NamedCurves.nistP384,
        KeySpec.P521 => ECCurve.NamedCurves.nistP521,
        _ => throw new PkiException($"invalid value '{curve}' for flag '--crv': must be one of P-256, P-384 or P-521"),
    };
}

/// <summary>An ECDSA key over P-256, P-384 or P-521.</summary>
public sealed class EcPrivateKey : PrivateKey
{
    internal EcPrivateKey(ECDsa key)
    {
        Key = key;
        var oid = key.ExportParameters(false).Curve.Oid;
        // Named curves loaded from files may carry only the friendly name; map it back to the OID.
        var value = oid.Value ?? (oid.FriendlyName is { } name ? Oid.FromFriendlyName(name, OidGroup.PublicKeyAlgorithm).Value : null);
        Curve = Oids.CurveName(value);
    }

    /// <summary>The platform key.</summary>
    public ECDsa Key { get; }

    public override KeyKind Kind => KeyKind.Ec;

    public override string Curve { get; }

    public override int KeySize => Key.KeySize;

    public override HashAlgorithmName SignatureHash => Curve switch
    {
        KeySpec.P384 => HashAlgorithmName.SHA384,
        KeySpec.P521 => HashAlgorithmName.SHA512,
        _ => HashAlgorithmName.SHA256,
    };

    public override byte[] ExportSubjectPublicKeyInfo() => Key.ExportSubjectPublicKeyInfo();

    public override X509SignatureGenerator CreateSignatureGenerator() => X509SignatureGenerator.CreateForECDsa(Key);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Key.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>An RSA key.</summary>
public sealed class RsaPrivateKey : PrivateKey
{
    internal RsaPrivateKey(RSA key) => Key = key;

    /// <summary>The platform key.</summary>
    public RSA Key { get; }

    public override KeyKind Kind => KeyKind.Rsa;

    public override string? Curve => null;

    public override int KeySize => Key.KeySize;

    /// <summary>Go signs with SHA-256 PKCS#1 v1.5 whatever the RSA size.</summary>
    public override HashAlgorithmName SignatureHash => HashAlgorithmName.SHA256;

    public override byte[] ExportSubjectPublicKeyInfo() => Key.ExportSubjectPublicKeyInfo();

    public override X509SignatureGenerator CreateSignatureGenerator() =>
        X509SignatureGenerator.CreateForRSA(Key, RSASignaturePadding.Pkcs1);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Key.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>An Ed25519 key (BouncyCastle).</summary>
public sealed class Ed25519PrivateKey : PrivateKey
{
    internal Ed25519PrivateKey(Ed25519PrivateKeyParameters key) => Key = key;

    internal Ed25519PrivateKeyParameters Key { get; }

    public override KeyKind Kind => KeyKind.Ed25519;

    public override string Curve => KeySpec.Ed25519Curve;

    public override int KeySize => 256;

    /// <summary>Ed25519 hashes internally; the value only satisfies APIs that require a name.</summary>
    public override HashAlgorithmName SignatureHash => HashAlgorithmName.SHA512;

    /// <summary>The 32-byte public key.</summary>
    public byte[] PublicKeyBytes => Key.GeneratePublicKey().GetEncoded();

    /// <summary>The 32-byte seed (RFC 8410 CurvePrivateKey).</summary>
    internal byte[] Seed => Key.GetEncoded();

    public override byte[] ExportSubjectPublicKeyInfo()
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier(Oids.Ed25519);
            }

            writer.WriteBitString(PublicKeyBytes);
        }

        return writer.Encode();
    }

    public override X509SignatureGenerator CreateSignatureGenerator() => new Ed25519SignatureGenerator(this);

    internal byte[] Sign(byte[] data)
    {
        var signer = new Org.BouncyCastle.Crypto.Signers.Ed25519Signer();
        signer.Init(true, Key);
        signer.BlockUpdate(data, 0, data.Length);
        return signer.GenerateSignature();
    }

    private sealed class Ed25519SignatureGenerator(Ed25519PrivateKey key) : X509SignatureGenerator
    {
        // AlgorithmIdentifier { id-Ed25519 } with absent parameters (RFC 8410 §3).
        private static readonly byte[] AlgorithmIdentifier = [0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70];

        public override byte[] GetSignatureAlgorithmIdentifier(HashAlgorithmName hashAlgorithm) => (byte[])AlgorithmIdentifier.Clone();

        public override byte[] SignData(byte[] data, HashAlgorithmName hashAlgorithm) => key.Sign(data);

        protected override PublicKey BuildPublicKey() =>
            PublicKey.CreateFromSubjectPublicKeyInfo(key.ExportSubjectPublicKeyInfo(), out _);
    }
}
