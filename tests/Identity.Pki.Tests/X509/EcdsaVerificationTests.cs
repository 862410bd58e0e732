using System.Formats.Asn1;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Identity.Pki.X509;

namespace Identity.Pki.Tests.X509;

/// <summary>
/// The direct libcrypto verifier must answer exactly as the platform API does, for every curve and hash we allow,
/// for good signatures and for every way a signature can be wrong, and must leave no error on OpenSSL's queue.
/// </summary>
public sealed partial class EcdsaVerificationTests
{
    public static TheoryData<string, string> Curves() => new()
    {
        { "P-256", "SHA256" },
        { "P-256", "SHA1" },
        { "P-384", "SHA384" },
        { "P-384", "SHA256" },
        { "P-521", "SHA512" },
    };

    [Theory]
    [MemberData(nameof(Curves))]
    public void Agrees_with_the_platform_on_good_and_bad_signatures(string curveName, string hashName)
    {
        Assert.True(OpenSslEcdsaVerifier.IsAvailable, "libcrypto.so.3 is on every machine this project supports");
        var hash = new HashAlgorithmName(hashName);
        var curve = curveName switch
        {
            "P-256" => ECCurve.NamedCurves.nistP256,
            "P-384" => ECCurve.NamedCurves.nistP384,
            _ => ECCurve.NamedCurves.nistP521,
        };
        using var signer = ECDsa.Create(curve);
        using var other = ECDsa.Create(curve);
        var key = Decode(signer);
        var otherKey = Decode(other);
        byte[] data = [.. "a CSR's certificationRequestInfo"u8];
        var good = signer.SignData(data, hash, DSASignatureFormat.Rfc3279DerSequence);

        var cases = new List<(string Name, PublicKeyInfo Key, byte[] Data, byte[] Signature, bool Expected)>
        {
            ("good", key, data, good, true),
            ("good again on the same thread's key object", key, data, good, true),
            ("another key", otherKey, data, good, false),
            ("the right key after another", key, data, good, true),
            ("other data", key, [.. data, 0], good, false),
            ("a flipped bit", key, data, Flip(good, good.Length - 1), false),
            ("truncated", key, data, good[..^1], false),
            ("empty", key, data, [], false),
            ("not DER", key, data, [0xFF, 0x00, 0x01], false),
            ("trailing bytes", key, data, [.. good, 0], false),
            ("r with a redundant leading zero", key, data, NonCanonical(good), false),
            ("r and s swapped", key, data, Swapped(good), false),
        };

        foreach (var (name, k, d, s, expected) in cases)
        {
            var platform = Platform(k, hash, d, s);
            var direct = OpenSslEcdsaVerifier.Verify(k, hash, d, s);
            Assert.True(platform == expected, $"{name}: the platform said {platform}");
            Assert.True(direct == expected, $"{name}: libcrypto directly said {direct}");
            Assert.True(ERR_peek_error() == 0, $"{name}: an error was left on OpenSSL's queue");
        }
    }

    [Fact]
    public void Signature_algorithm_verify_uses_it_and_keeps_the_kind_check()
    {
        using var signer = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var key = Decode(signer);
        byte[] data = [1, 2, 3];
        var sha256 = SignatureAlgorithm.FromOid("1.2.840.10045.4.3.2")!;
        Assert.True(sha256.Verify(key, data, signer.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence)));
        Assert.False(SignatureAlgorithm.FromOid("1.2.840.113549.1.1.11")!.Verify(key, data, signer.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence)));
    }

    [Theory]
    [InlineData("P-256", "1.2.840.10045.4.3.2")]
    [InlineData("P-384", "1.2.840.10045.4.3.3")]
    [InlineData("P-521", "1.2.840.10045.4.3.4")]
    public void P1363_signatures_as_jws_writes_them_agree_with_the_platform(string curveName, string algorithmOid)
    {
        var algorithm = SignatureAlgorithm.FromOid(algorithmOid)!;
        using var signer = ECDsa.Create(curveName switch
        {
            "P-256" => ECCurve.NamedCurves.nistP256,
            "P-384" => ECCurve.NamedCurves.nistP384,
            _ => ECCurve.NamedCurves.nistP521,
        });
        var key = Decode(signer);
        var size = key.Curve!.CoordinateSize;
        var sawLeadingZero = false;
        var sawHighBit = false;

        // Enough signatures that r and s take every DER shape: a leading zero byte dropped, a zero byte added.
        for (var i = 0; i < 100 || (i < 5000 && !(sawLeadingZero && (sawHighBit || size == 66))); i++)
        {
            byte[] data = [.. "header.payload"u8, .. BitConverter.GetBytes(i)];
            var signature = signer.SignData(data, algorithm.Hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
            sawLeadingZero |= signature[0] == 0 || signature[size] == 0;
            sawHighBit |= signature[0] >= 0x80 || signature[size] >= 0x80;

            Assert.True(algorithm.VerifyP1363(key, data, signature));
            Assert.False(algorithm.VerifyP1363(key, [.. data, 0], signature));
            Assert.False(algorithm.VerifyP1363(key, data, Flip(signature, i % signature.Length)));
        }

        Assert.True(sawLeadingZero);
        Assert.True(sawHighBit || size == 66, "P-521's top byte is at most 1, so only the other curves need a zero byte added");
        var good = signer.SignData("x"u8.ToArray(), algorithm.Hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        Assert.False(algorithm.VerifyP1363(key, "x"u8, good.AsSpan(0, good.Length - 1)));
        Assert.False(algorithm.VerifyP1363(key, "x"u8, [.. good, 0]));
        Assert.False(algorithm.VerifyP1363(key, "x"u8, new byte[good.Length]));
        Assert.Equal(0UL, ERR_peek_error());
    }

    private static PublicKeyInfo Decode(ECDsa key) => PublicKeyInfo.Decode(key.ExportSubjectPublicKeyInfo()).Value!;

    private static bool Platform(PublicKeyInfo key, HashAlgorithmName hash, byte[] data, byte[] signature)
    {
        using var ec = key.CreateEcdsa();
        return ec.VerifyData(data, signature, hash, DSASignatureFormat.Rfc3279DerSequence);
    }

    private static byte[] Flip(byte[] bytes, int index)
    {
        var copy = bytes.ToArray();
        copy[index] ^= 0x01;
        return copy;
    }

    private static (byte[] R, byte[] S) Integers(byte[] der)
    {
        var reader = new AsnReader(der, AsnEncodingRules.DER).ReadSequence();
        return (reader.ReadIntegerBytes().ToArray(), reader.ReadIntegerBytes().ToArray());
    }

    // BER allows an INTEGER with a redundant leading zero; DER does not, and neither verifier may accept it.
    private static byte[] NonCanonical(byte[] der)
    {
        var (r, s) = Integers(der);
        byte[] padded = [0x00, .. r];
        return [0x30, (byte)(2 + padded.Length + 2 + s.Length), 0x02, (byte)padded.Length, .. padded, 0x02, (byte)s.Length, .. s];
    }

    private static byte[] Swapped(byte[] der)
    {
        var (r, s) = Integers(der);
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteIntegerUnsigned(s.AsSpan(s[0] == 0 ? 1 : 0));
            writer.WriteIntegerUnsigned(r.AsSpan(r[0] == 0 ? 1 : 0));
        }

        return writer.Encode();
    }

    [LibraryImport("libcrypto.so.3")]
    private static partial ulong ERR_peek_error();
}
