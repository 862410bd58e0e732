using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Identity.Cli.Tests.Check;

/// <summary>The check and anchors tests' fixed clock, their test PKI on it, and how `identity` prints certificates.</summary>
internal static class CheckFixtures
{
    /// <summary>The tests' "now"; whole seconds, so certificate times round-trip exactly.</summary>
    public static readonly DateTimeOffset Now = new(2030, 6, 1, 12, 0, 0, TimeSpan.Zero);

    public static readonly TestPki Ca = new(Now);

    public static string SerialDecimal(X509Certificate2 certificate) =>
        new BigInteger(certificate.SerialNumberBytes.Span, isUnsigned: true, isBigEndian: true).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static string Sha256(X509Certificate2 certificate) => Convert.ToHexStringLower(SHA256.HashData(certificate.RawData));
}
