using System.Formats.Asn1;
using System.Numerics;
using System.Security.Cryptography;
using Grpc.Core;

namespace Identity.Server.Tests;

/// <summary>
/// CSRs that a parser can be surprised by: the black-box run's crash classes (fuzz/regressions/csr) and hostile
/// public keys. Each gets INVALID_ARGUMENT with a message naming what is wrong, before any token review, and
/// nothing is issued.
/// </summary>
public sealed class HostileCsrTests
{
    private const string Prefix = "failed to parse certificate signing request: ";
    private static readonly string Web = ServerFixtures.IdentityOf("web", "emojivoto");

    public static TheoryData<string, string> BlackBoxCrashes() => new()
    {
        { "black-box-cn-invalid-utf8.der", "subject: RDN 1: attribute 2.5.4.3 is not a valid UTF8String" },
        { "black-box-rdn-type-not-oid.der", "subject: RDN 1: malformed attribute type" },
        { "black-box-cn-bmp-odd-length.der", "subject: RDN 1: attribute 2.5.4.3 is not a valid BMPString" },
        { "black-box-unknown-curve.der", "unsupported elliptic curve 1.2.840.10045.7.1.7: only P-256, P-384 and P-521 are supported" },
    };

    public static TheoryData<string, string> HostileKeys() => new()
    {
        { "off-curve", "the EC point is not on the P-256 curve" },
        { "infinity", "the EC point is the point at infinity" },
        { "short-point", "an uncompressed P-256 point must be 65 bytes, not 64" },
        { "compressed-point", "compressed EC points are not supported" },
        { "x-not-below-p", "the EC point's coordinates are not below the P-256 field prime" },
        { "explicit-curve", "explicit or implicit EC curve parameters are not supported; use a named curve" },
        { "no-curve", "the EC public key has no curve parameters" },
        { "p384-point-on-p256", "an uncompressed P-256 point must be 65 bytes, not 97" },
        { "unused-bits", "the public key BIT STRING has unused bits" },
        { "not-a-spki", "malformed SubjectPublicKeyInfo" },
        { "dsa", "unsupported public key algorithm 1.2.840.10040.4.1" },
        { "rsa-negative-modulus", "the RSA modulus is not a positive number" },
        { "ed25519-wrong-length", "an Ed25519 public key must be 32 bytes, not 31" },
    };

    [Theory]
    [MemberData(nameof(BlackBoxCrashes))]
    public async Task The_black_box_runs_crash_classes_are_invalid_argument_with_a_precise_message(string file, string message) =>
        await AssertRefused(File.ReadAllBytes(Path.Combine(TestPaths.SolutionDirectory, "fuzz", "regressions", "csr", file)), Prefix + message);

    [Theory]
    [MemberData(nameof(HostileKeys))]
    public async Task Hostile_public_keys_are_refused_precisely_before_any_token_review(string kind, string message) =>
        await AssertRefused(TestCsr.WithPublicKey(Web, Spki(kind)), Prefix + message);

    private static async Task AssertRefused(byte[] csr, string message)
    {
        await using var server = await TestServer.StartAsync();
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await server.Client.CertifyAsync(TestServer.Request(Web, "sa:emojivoto:web", csr), cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal(message, error.Status.Detail);
        Assert.Equal(0, server.Validator.Calls);
        Assert.Equal(0, server.IssuedCounter.Total);
        Assert.Equal(0, server.AuditIssued);
        Assert.DoesNotContain(server.Logs.Lines, l => l.EventId == 2003);
    }

    private static byte[] Spki(string kind)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var q = key.ExportParameters(false).Q;
        byte[] point = [0x04, .. q.X!, .. q.Y!];
        var p256 = "1.2.840.10045.3.1.7";
        switch (kind)
        {
            case "off-curve":
                point[^1] ^= 0x01;
                return Ec(p256, point);
            case "infinity":
                return Ec(p256, [0x00]);
            case "short-point":
                return Ec(p256, point[..^1]);
            case "compressed-point":
                return Ec(p256, [(byte)(0x02 | (q.Y![^1] & 1)), .. q.X!]);
            case "x-not-below-p":
                var prime = BigInteger.Pow(2, 256) - BigInteger.Pow(2, 224) + BigInteger.Pow(2, 192) + BigInteger.Pow(2, 96) - 1;
                var x = (new BigInteger(q.X, isUnsigned: true, isBigEndian: true) + prime).ToByteArray(isUnsigned: true, isBigEndian: true);
                return x.Length == 32 ? Ec(p256, [0x04, .. x, .. q.Y!]) : Ec(p256, [0x04, .. Enumerable.Repeat((byte)0xFF, 32), .. q.Y!]);
            case "explicit-curve":
                return Spki("1.2.840.10045.2.1", w => { using (w.PushSequence()) { w.WriteInteger(1); } }, point);
            case "no-curve":
                return Spki("1.2.840.10045.2.1", null, point);
            case "p384-point-on-p256":
                using (var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384))
                {
                    var q384 = p384.ExportParameters(false).Q;
                    return Ec(p256, [0x04, .. q384.X!, .. q384.Y!]);
                }

            case "unused-bits":
                var unused = new AsnWriter(AsnEncodingRules.DER);
                using (unused.PushSequence())
                {
                    using (unused.PushSequence())
                    {
                        unused.WriteObjectIdentifier("1.2.840.10045.2.1");
                        unused.WriteObjectIdentifier(p256);
                    }

                    unused.WriteBitString([.. point[..^1], (byte)(point[^1] & 0xF8)], unusedBitCount: 3);
                }

                return unused.Encode();
            case "not-a-spki":
                var broken = new AsnWriter(AsnEncodingRules.DER);
                using (broken.PushSequence())
                {
                    using (broken.PushSequence())
                    {
                        broken.WriteObjectIdentifier("1.2.840.10045.2.1");
                    }

                    broken.WriteInteger(5);
                }

                return broken.Encode();
            case "dsa":
                return Spki("1.2.840.10040.4.1", null, [0x02, 0x01, 0x05]);
            case "rsa-negative-modulus":
                var numbers = new AsnWriter(AsnEncodingRules.DER);
                using (numbers.PushSequence())
                {
                    numbers.WriteInteger(new BigInteger(-12345));
                    numbers.WriteInteger(65537);
                }

                return Spki("1.2.840.113549.1.1.1", w => w.WriteNull(), numbers.Encode());
            case "ed25519-wrong-length":
                return Spki("1.3.101.112", null, new byte[31]);
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    private static byte[] Ec(string curveOid, byte[] point) => Spki("1.2.840.10045.2.1", w => w.WriteObjectIdentifier(curveOid), point);

    private static byte[] Spki(string algorithm, Action<AsnWriter>? parameters, byte[] keyBits)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier(algorithm);
                parameters?.Invoke(writer);
            }

            writer.WriteBitString(keyBits);
        }

        return writer.Encode();
    }
}
