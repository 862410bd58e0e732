using System.Formats.Asn1;
using System.Net;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using Identity.Pki.X509;

namespace Identity.Pki.Inspection;

/// <summary>A decoded SubjectPublicKeyInfo.</summary>
internal sealed record PublicKeyDetails(
    string Algorithm,
    int Bits,
    string? Curve,
    string? CurveOid,
    byte[]? X,
    byte[]? Y,
    byte[]? Modulus,
    BigInteger? Exponent,
    byte[] Raw);

/// <summary>Subject alternative names, grouped by kind as Go's crypto/x509 groups them.</summary>
internal sealed record SubjectAltNames(
    IReadOnlyList<string> Dns,
    IReadOnlyList<string> Email,
    IReadOnlyList<string> Ip,
    IReadOnlyList<string> Uri,
    IReadOnlyList<(string Oid, byte[] Value)> OtherNames);

/// <summary>Decoders for the fields inspect prints. Names follow Go's crypto/x509 where step shows them.</summary>
internal static class CertificateFields
{
    public const string SubjectKeyIdentifier = "2.5.29.14";
    public const string KeyUsage = "2.5.29.15";
    public const string SubjectAltName = "2.5.29.17";
    public const string BasicConstraints = "2.5.29.19";
    public const string NameConstraints = "2.5.29.30";
    public const string CrlDistributionPoints = "2.5.29.31";
    public const string CertificatePolicies = "2.5.29.32";
    public const string AuthorityKeyIdentifier = "2.5.29.35";
    public const string ExtendedKeyUsage = "2.5.29.37";
    public const string AuthorityInfoAccess = "1.3.6.1.5.5.7.1.1";

    private static readonly Dictionary<string, string> ExtendedKeyUsages = new(StringComparer.Ordinal)
    {
        ["2.5.29.37.0"] = "Any Usage",
        ["1.3.6.1.5.5.7.3.1"] = "Server Authentication",
        ["1.3.6.1.5.5.7.3.2"] = "Client Authentication",
        ["1.3.6.1.5.5.7.3.3"] = "Code Signing",
        ["1.3.6.1.5.5.7.3.4"] = "E-mail Protection",
        ["1.3.6.1.5.5.7.3.5"] = "IPSec End System",
        ["1.3.6.1.5.5.7.3.6"] = "IPSec Tunnel",
        ["1.3.6.1.5.5.7.3.7"] = "IPSec User",
        ["1.3.6.1.5.5.7.3.8"] = "Time Stamping",
        ["1.3.6.1.5.5.7.3.9"] = "OCSP Signing",
    };

    public static string SignatureAlgorithmName(string oid) => SignatureAlgorithm.NameOf(oid);

    public static string? ExtendedKeyUsageName(string oid) =>
        ExtendedKeyUsages.TryGetValue(oid, out var name) ? name : null;

    /// <summary>Attribute type and value pairs of a Name in encoded order; value null when not a string.</summary>
    /// <exception cref="PkiException">The Name is malformed.</exception>
    public static List<(string Oid, string? Value)> ParseName(ReadOnlyMemory<byte> der) =>
        der.IsEmpty ? [] : [.. DecodeName(der).Attributes.Select(a => (a.Oid, a.Value))];

    public static string? CommonName(ReadOnlyMemory<byte> nameDer) => nameDer.IsEmpty ? null : DecodeName(nameDer).CommonName;

    private static DistinguishedName DecodeName(ReadOnlyMemory<byte> der) =>
        DistinguishedName.Decode(der, AsnEncodingRules.BER).ValueOrThrow("name");

    /// <exception cref="PkiException">The SubjectPublicKeyInfo is malformed.</exception>
    public static PublicKeyDetails DescribeKey(X509Parts parts)
    {
        var key = PublicKeyInfo.Decode(parts.SpkiDer).ValueOrThrow("public key");
        var raw = key.KeyBits.ToArray();
        switch (key.Kind)
        {
            case PublicKeyKind.Ec:
            {
                var curve = EllipticCurve.DisplayName(key.CurveOid);
                var bits = key.Curve?.Bits ?? (curve == "P-224" ? 224 : 0);
                byte[]? x = null, y = null;
                if (raw.Length > 1 && raw[0] == 0x04)
                {
                    var size = (raw.Length - 1) / 2;
                    x = TrimLeadingZeros(raw.AsSpan(1, size));
                    y = TrimLeadingZeros(raw.AsSpan(1 + size, size));
                }

                return new PublicKeyDetails("ECDSA", bits, curve, key.CurveOid, x, y, null, null, raw);
            }

            case PublicKeyKind.Rsa when key.Modulus is not null:
                return new PublicKeyDetails("RSA", key.Bits, null, null, null, null, key.Modulus,
                    new BigInteger(key.Exponent, isUnsigned: true, isBigEndian: true), raw);

            case PublicKeyKind.Ed25519:
                return new PublicKeyDetails("Ed25519", raw.Length * 8, null, null, null, null, null, null, raw);

            default:
                return new PublicKeyDetails(parts.KeyAlgorithmOid, 0, null, null, null, null, null, null, raw);
        }
    }

    public static byte[] TrimLeadingZeros(ReadOnlySpan<byte> value)
    {
        var start = value.IndexOfAnyExcept((byte)0);
        return start < 0 ? [] : value[start..].ToArray();
    }

    /// <summary>Go's KeyUsage bit mask (bit i of the BIT STRING is 1 &lt;&lt; i).</summary>
    /// <exception cref="PkiException">The extension is malformed (as for every extension decoder here).</exception>
    public static int ParseKeyUsage(ReadOnlyMemory<byte> value) => Decode("keyUsage", value, reader =>
    {
        var bytes = reader.ReadBitString(out _);
        var usage = 0;
        for (var i = 0; i < 9 && i / 8 < bytes.Length; i++)
        {
            if ((bytes[i / 8] & (0x80 >> (i % 8))) != 0)
            {
                usage |= 1 << i;
            }
        }

        return usage;
    });

    /// <summary>(IsCA, MaxPathLen) with MaxPathLen -1 when absent.</summary>
    public static (bool IsCa, int MaxPathLen) ParseBasicConstraints(ReadOnlyMemory<byte> value) => Decode("basicConstraints", value, reader =>
    {
        var sequence = reader.ReadSequence();
        var isCa = sequence.HasData && sequence.PeekTag().HasSameClassAndValue(Asn1Tag.Boolean) && sequence.ReadBoolean();
        var maxPathLen = -1;
        if (sequence.HasData && sequence.TryReadInt32(out var pathLen))
        {
            maxPathLen = pathLen;
        }

        return (isCa, maxPathLen);
    });

    public static byte[] ParseSubjectKeyId(ReadOnlyMemory<byte> value) =>
        Decode("subjectKeyIdentifier", value, reader => reader.ReadOctetString());

    public static byte[] ParseAuthorityKeyId(ReadOnlyMemory<byte> value) => Decode("authorityKeyIdentifier", value, reader =>
    {
        var sequence = reader.ReadSequence();
        var keyId = new Asn1Tag(TagClass.ContextSpecific, 0);
        return sequence.HasData && sequence.PeekTag().HasSameClassAndValue(keyId)
            ? sequence.ReadOctetString(keyId)
            : [];
    });

    public static List<string> ParseOidSequence(ReadOnlyMemory<byte> value) => Decode("extKeyUsage", value, reader =>
    {
        var sequence = reader.ReadSequence();
        var list = new List<string>();
        while (sequence.HasData)
        {
            list.Add(sequence.ReadObjectIdentifier());
        }

        return list;
    });

    public static List<string> ParsePolicies(ReadOnlyMemory<byte> value) => Decode("certificatePolicies", value, reader =>
    {
        var sequence = reader.ReadSequence();
        var list = new List<string>();
        while (sequence.HasData)
        {
            list.Add(sequence.ReadSequence().ReadObjectIdentifier());
        }

        return list;
    });

    /// <exception cref="PkiException">The extension is malformed.</exception>
    public static SubjectAltNames ParseSubjectAltNames(ReadOnlyMemory<byte> value)
    {
        var names = GeneralNames.Decode(value, AsnEncodingRules.BER).ValueOrThrow("subjectAltName");
        return new SubjectAltNames(names.DnsNames, names.EmailAddresses,
            [.. names.IPAddresses.Select(b => GeneralNames.ToIPAddress(b)?.ToString() ?? "?" + Convert.ToHexStringLower(b))],
            names.Uris, names.OtherNames);
    }

    public static List<string> ParseCrlDistributionPoints(ReadOnlyMemory<byte> value) => Decode("cRLDistributionPoints", value, reader =>
    {
        var uris = new List<string>();
        var points = reader.ReadSequence();
        while (points.HasData)
        {
            var point = points.ReadSequence();
            var nameTag = new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true);
            if (!point.HasData || !point.PeekTag().HasSameClassAndValue(nameTag))
            {
                continue;
            }

            var name = point.ReadSequence(nameTag);
            if (!name.HasData || !name.PeekTag().HasSameClassAndValue(nameTag))
            {
                continue;
            }

            var full = name.ReadSequence(nameTag);
            var uriTag = new Asn1Tag(TagClass.ContextSpecific, 6);
            while (full.HasData)
            {
                if (full.PeekTag().HasSameClassAndValue(uriTag))
                {
                    uris.Add(full.ReadCharacterString(UniversalTagNumber.IA5String, uriTag));
                }
                else
                {
                    full.ReadEncodedValue();
                }
            }
        }

        return uris;
    });

    public static (List<string> Ocsp, List<string> Issuers) ParseAuthorityInfoAccess(ReadOnlyMemory<byte> value) => Decode("authorityInfoAccess", value, reader =>
    {
        var ocsp = new List<string>();
        var issuers = new List<string>();
        var descriptions = reader.ReadSequence();
        var uriTag = new Asn1Tag(TagClass.ContextSpecific, 6);
        while (descriptions.HasData)
        {
            var description = descriptions.ReadSequence();
            var method = description.ReadObjectIdentifier();
            if (!description.PeekTag().HasSameClassAndValue(uriTag))
            {
                continue;
            }

            var uri = description.ReadCharacterString(UniversalTagNumber.IA5String, uriTag);
            if (method == "1.3.6.1.5.5.7.48.1")
            {
                ocsp.Add(uri);
            }
            else if (method == "1.3.6.1.5.5.7.48.2")
            {
                issuers.Add(uri);
            }
        }

        return (ocsp, issuers);
    });

    /// <summary>
    /// Runs one extension decoder over its value (BER, as inspect shows what a lenient encoder wrote) and reports a
    /// malformed value the way Go's parser does, naming the extension, instead of letting the reader's exception out.
    /// </summary>
    private static T Decode<T>(string extension, ReadOnlyMemory<byte> value, Func<AsnReader, T> read)
    {
        try
        {
            var reader = new AsnReader(value, AsnEncodingRules.BER);
            var result = read(reader);
            reader.ThrowIfNotEmpty();
            return result;
        }
        catch (AsnContentException e)
        {
            throw new PkiException($"x509: malformed {extension} extension", e);
        }
    }

    /// <summary>True when the signature verifies with the certificate's own public key.</summary>
    public static bool SignatureVerifiesWithOwnKey(X509Parts parts) => VerifySignature(parts, parts) == true;

    /// <summary>
    /// Whether <paramref name="subject"/>'s signature verifies with <paramref name="issuer"/>'s public key;
    /// null when the algorithm is not supported here (e.g. RSA-PSS).
    /// </summary>
    public static bool? VerifySignature(X509Parts subject, X509Parts issuer) =>
        PublicKeyInfo.Decode(issuer.SpkiDer).Value is { } key
            ? VerifySignature(subject, key)
            : SignatureAlgorithm.FromOid(subject.SignatureAlgorithmOid) is null ? null : false;

    /// <summary>
    /// Whether <paramref name="subject"/>'s signature verifies with <paramref name="issuerKey"/>, for callers that
    /// keep an issuer's key decoded; null when the algorithm is not supported here.
    /// </summary>
    public static bool? VerifySignature(X509Parts subject, PublicKeyInfo issuerKey) =>
        SignatureAlgorithm.FromOid(subject.SignatureAlgorithmOid) is { } algorithm
            ? algorithm.Verify(issuerKey, subject.TbsDer.Span, subject.Signature.Span)
            : null;

    /// <summary>Go's bytes.Runes + strconv.IsPrint sanitizing of an unknown extension's raw value.</summary>
    public static string Sanitize(ReadOnlySpan<byte> value)
    {
        var builder = new StringBuilder();
        var decoded = Encoding.UTF8.GetString(value);
        foreach (var rune in decoded.EnumerateRunes())
        {
            var printable = rune.Value != 0xFFFD && (rune.Value == ' ' || IsGraphic(rune));
            builder.Append(printable ? rune.ToString() : ".");
        }

        return builder.ToString();
    }

    private static bool IsGraphic(Rune rune)
    {
        var category = Rune.GetUnicodeCategory(rune);
        return category is not (System.Globalization.UnicodeCategory.Control
            or System.Globalization.UnicodeCategory.Format
            or System.Globalization.UnicodeCategory.Surrogate
            or System.Globalization.UnicodeCategory.PrivateUse
            or System.Globalization.UnicodeCategory.OtherNotAssigned
            or System.Globalization.UnicodeCategory.SpaceSeparator
            or System.Globalization.UnicodeCategory.LineSeparator
            or System.Globalization.UnicodeCategory.ParagraphSeparator);
    }
}
