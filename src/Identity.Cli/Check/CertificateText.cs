using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Identity.Cli.Check;

/// <summary>How certificates are named in messages: Go's formats, so output reads like <c>linkerd check</c>.</summary>
internal static class CertificateText
{
    public static DateTimeOffset NotBefore(X509Certificate2 certificate) =>
        new(certificate.NotBefore.ToUniversalTime(), TimeSpan.Zero);

    public static DateTimeOffset NotAfter(X509Certificate2 certificate) =>
        new(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);

    /// <summary>The serial as a decimal number, as Go's <c>%v</c> prints a <c>*big.Int</c>.</summary>
    public static string SerialDecimal(X509Certificate2 certificate) =>
        new BigInteger(certificate.SerialNumberBytes.Span, isUnsigned: true, isBigEndian: true).ToString(CultureInfo.InvariantCulture);

    public static string CommonName(X509Certificate2 certificate) =>
        certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);

    /// <summary>Lowercase hex SHA-256 of the DER encoding: the identity of a certificate across files and clusters.</summary>
    public static string Sha256(X509Certificate2 certificate) =>
        Convert.ToHexStringLower(SHA256.HashData(certificate.RawDataMemory.Span));

    /// <summary><c>serial CN</c>, the prefix Linkerd uses when it lists anchors.</summary>
    public static string Short(X509Certificate2 certificate) => $"{SerialDecimal(certificate)} {CommonName(certificate)}";

    /// <summary>Subject and fingerprint, unambiguous even when several roots share a subject.</summary>
    public static string Describe(X509Certificate2 certificate) => $"{certificate.Subject} (sha256 {Sha256(certificate)})";
}
