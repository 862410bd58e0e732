using System.Formats.Asn1;
using System.Net;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

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

    private static readonly Dictionary<string, string> SignatureAlgorithms = new(StringComparer.Ordinal)
    {
        ["1.2.840.113549.1.1.2"] = "MD2-RSA",
        ["1.2.840.113549.1.1.4"] = "MD5-RSA",
        ["1.2.840.113549.1.1.5"] = "SHA1-RSA",
        ["1.2.840.113549.1.1.11"] = "SHA256-RSA",
        ["1.2.840.113549.1.1.12"] = "SHA384-RSA",
        ["1.2.840.113549.1.1.13"] = "SHA512-RSA",
        ["1.2.840.113549.1.1.10"] = "SHA256-RSAPSS",
        ["1.2.840.10040.4.3"] = "DSA-SHA1",
        ["2.16.840.1.101.3.4.3.2"] = "DSA-SHA256",
        ["1.2.840.10045.4.1"] = "ECDSA-SHA1",
        ["1.2.840.10045.4.3.2"] = "ECDSA-SHA256",
        ["1.2.840.10045.4.3.3"] = "ECDSA-SHA384",
        ["1.2.840.10045.4.3.4"] = "ECDSA-SHA512",
        ["1.3.101.112"] = "Ed25519",
    };

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

    public static string SignatureAlgorithmName(string oid) =>
        SignatureAlgorithms.TryGetValue(oid, out var name) ? name : oid;

    public static string? ExtendedKeyUsageName(string oid) =>
        ExtendedKeyUsages.TryGetValue(oid, out var name) ? name : null;

    /// <summary>Attribute type and value pairs of a Name in encoded order; value null when not a string.</summary>
    public static List<(string Oid, string? Value)> ParseName(ReadOnlyMemory<byte> der)
    {
        var result = new List<(string, string?)>();
        if (der.IsEmpty)
        {
            return result;
        }

        var rdns = new AsnReader(der, AsnEncodingRules.DER).ReadSequence();
        while (rdns.HasData)
        {
            var set = rdns.ReadSetOf(skipSortOrderValidation: true);
            while (set.HasData)
            {
                var pair = set.ReadSequence();
                var oid = pair.ReadObjectIdentifier();
                var tag = pair.PeekTag();
                string? value = null;
                if (tag.TagClass == TagClass.Universal && IsStringTag((UniversalTagNumber)tag.TagValue))
                {
                    value = pair.ReadCharacterString((UniversalTagNumber)tag.TagValue);
                }
                else
                {
                    pair.ReadEncodedValue();
                }

                result.Add((oid, value));
            }
        }

        return result;
    }

    private static bool IsStringTag(UniversalTagNumber tag) => tag is UniversalTagNumber.UTF8String
        or UniversalTagNumber.PrintableString or UniversalTagNumber.IA5String or UniversalTagNumber.T61String
        or UniversalTagNumber.BMPString or UniversalTagNumber.UniversalString or UniversalTagNumber.NumericString
        or UniversalTagNumber.VisibleString;

    public static string? CommonName(ReadOnlyMemory<byte> nameDer)
    {
        // Go keeps the last CN it sees.
        return ParseName(nameDer).LastOrDefault(p => p.Oid == "2.5.4.3").Value;
    }

    public static PublicKeyDetails DescribeKey(X509Parts parts)
    {
        var raw = parts.KeyBits.ToArray();
        switch (parts.KeyAlgorithmOid)
        {
            case "1.2.840.10045.2.1":
            {
                var curveOid = parts.KeyParameters is { } p ? new AsnReader(p, AsnEncodingRules.DER).ReadObjectIdentifier() : null;
                var (curve, bits) = curveOid switch
                {
                    "1.2.840.10045.3.1.7" => ("P-256", 256),
                    "1.3.132.0.34" => ("P-384", 384),
                    "1.3.132.0.35" => ("P-521", 521),
                    "1.3.132.0.33" => ("P-224", 224),
                    _ => (curveOid ?? "unknown", 0),
                };
                byte[]? x = null, y = null;
                if (raw.Length > 1 && raw[0] == 0x04)
                {
                    var size = (raw.Length - 1) / 2;
                    x = TrimLeadingZeros(raw.AsSpan(1, size));
                    y = TrimLeadingZeros(raw.AsSpan(1 + size, size));
                }

                return new PublicKeyDetails("ECDSA", bits, curve, curveOid, x, y, null, null, raw);
            }

            case "1.2.840.113549.1.1.1":
            case "1.2.840.113549.1.1.10":
            {
                var sequence = new AsnReader(raw, AsnEncodingRules.DER).ReadSequence();
                var modulus = TrimLeadingZeros(sequence.ReadIntegerBytes().Span);
                var exponent = sequence.ReadInteger();
                var bits = (int)new BigInteger(modulus, isUnsigned: true, isBigEndian: true).GetBitLength();
                return new PublicKeyDetails("RSA", bits, null, null, null, null, modulus, exponent, raw);
            }

            case "1.3.101.112":
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
    public static int ParseKeyUsage(ReadOnlyMemory<byte> value)
    {
        var bytes = new AsnReader(value, AsnEncodingRules.BER).ReadBitString(out _);
        var usage = 0;
        for (var i = 0; i < 9 && i / 8 < bytes.Length; i++)
        {
            if ((bytes[i / 8] & (0x80 >> (i % 8))) != 0)
            {
                usage |= 1 << i;
            }
        }

        return usage;
    }

    /// <summary>(IsCA, MaxPathLen) with MaxPathLen -1 when absent.</summary>
    public static (bool IsCa, int MaxPathLen) ParseBasicConstraints(ReadOnlyMemory<byte> value)
    {
        var sequence = new AsnReader(value, AsnEncodingRules.BER).ReadSequence();
        var isCa = sequence.HasData && sequence.PeekTag().HasSameClassAndValue(Asn1Tag.Boolean) && sequence.ReadBoolean();
        var maxPathLen = -1;
        if (sequence.HasData && sequence.TryReadInt32(out var pathLen))
        {
            maxPathLen = pathLen;
        }

        return (isCa, maxPathLen);
    }

    public static byte[] ParseSubjectKeyId(ReadOnlyMemory<byte> value) =>
        new AsnReader(value, AsnEncodingRules.BER).ReadOctetString();

    public static byte[] ParseAuthorityKeyId(ReadOnlyMemory<byte> value)
    {
        var sequence = new AsnReader(value, AsnEncodingRules.BER).ReadSequence();
        var keyId = new Asn1Tag(TagClass.ContextSpecific, 0);
        return sequence.HasData && sequence.PeekTag().HasSameClassAndValue(keyId)
            ? sequence.ReadOctetString(keyId)
            : [];
    }

    public static List<string> ParseOidSequence(ReadOnlyMemory<byte> value)
    {
        var sequence = new AsnReader(value, AsnEncodingRules.BER).ReadSequence();
        var list = new List<string>();
        while (sequence.HasData)
        {
            list.Add(sequence.ReadObjectIdentifier());
        }

        return list;
    }

    public static List<string> ParsePolicies(ReadOnlyMemory<byte> value)
    {
        var sequence = new AsnReader(value, AsnEncodingRules.BER).ReadSequence();
        var list = new List<string>();
        while (sequence.HasData)
        {
            list.Add(sequence.ReadSequence().ReadObjectIdentifier());
        }

        return list;
    }

    public static SubjectAltNames ParseSubjectAltNames(ReadOnlyMemory<byte> value)
    {
        var dns = new List<string>();
        var email = new List<string>();
        var ip = new List<string>();
        var uri = new List<string>();
        var other = new List<(string, byte[])>();
        var names = new AsnReader(value, AsnEncodingRules.BER).ReadSequence();
        while (names.HasData)
        {
            var tag = names.PeekTag();
            if (tag.TagClass != TagClass.ContextSpecific)
            {
                names.ReadEncodedValue();
                continue;
            }

            switch (tag.TagValue)
            {
                case 0:
                    var otherName = names.ReadSequence(tag);
                    var oid = otherName.ReadObjectIdentifier();
                    var wrapped = otherName.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true));
                    other.Add((oid, wrapped.ReadEncodedValue().ToArray()));
                    break;
                case 1:
                    email.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, tag));
                    break;
                case 2:
                    dns.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, tag));
                    break;
                case 6:
                    uri.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, tag));
                    break;
                case 7:
                    var bytes = names.ReadOctetString(tag);
                    ip.Add(bytes.Length is 4 or 16 ? FormatIp(bytes) : "?" + Convert.ToHexStringLower(bytes));
                    break;
                default:
                    names.ReadEncodedValue();
                    break;
            }
        }

        return new SubjectAltNames(dns, email, ip, uri, other);
    }

    private static string FormatIp(byte[] bytes)
    {
        var address = new IPAddress(bytes);
        return address.IsIPv4MappedToIPv6 ? address.MapToIPv4().ToString() : address.ToString();
    }

    public static List<string> ParseCrlDistributionPoints(ReadOnlyMemory<byte> value)
    {
        var uris = new List<string>();
        var points = new AsnReader(value, AsnEncodingRules.BER).ReadSequence();
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
    }

    public static (List<string> Ocsp, List<string> Issuers) ParseAuthorityInfoAccess(ReadOnlyMemory<byte> value)
    {
        var ocsp = new List<string>();
        var issuers = new List<string>();
        var descriptions = new AsnReader(value, AsnEncodingRules.BER).ReadSequence();
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
    }

    /// <summary>True when the signature verifies with the certificate's own public key.</summary>
    public static bool SignatureVerifiesWithOwnKey(X509Parts parts) => VerifySignature(parts, parts) == true;

    /// <summary>
    /// Whether <paramref name="subject"/>'s signature verifies with <paramref name="issuer"/>'s public key;
    /// null when the algorithm is not supported here (e.g. RSA-PSS).
    /// </summary>
    public static bool? VerifySignature(X509Parts subject, X509Parts issuer)
    {
        try
        {
            var data = subject.TbsDer.Span;
            var signature = subject.Signature.Span;
            switch (subject.SignatureAlgorithmOid)
            {
                case "1.2.840.10045.4.3.2":
                case "1.2.840.10045.4.3.3":
                case "1.2.840.10045.4.3.4":
                {
                    using var key = ECDsa.Create();
                    key.ImportSubjectPublicKeyInfo(issuer.SpkiDer.Span, out _);
                    return key.VerifyData(data, signature, HashFor(subject.SignatureAlgorithmOid), DSASignatureFormat.Rfc3279DerSequence);
                }

                case "1.2.840.113549.1.1.5":
                case "1.2.840.113549.1.1.11":
                case "1.2.840.113549.1.1.12":
                case "1.2.840.113549.1.1.13":
                {
                    using var key = RSA.Create();
                    key.ImportSubjectPublicKeyInfo(issuer.SpkiDer.Span, out _);
                    return key.VerifyData(data, signature, HashFor(subject.SignatureAlgorithmOid), RSASignaturePadding.Pkcs1);
                }

                case "1.3.101.112":
                {
                    // The BCL has no Ed25519; BouncyCastle verifies it.
                    if (issuer.KeyAlgorithmOid != "1.3.101.112" || issuer.KeyBits.Length != Ed25519PublicKeyParameters.KeySize)
                    {
                        return false;
                    }

                    var verifier = new Ed25519Signer();
                    verifier.Init(false, new Ed25519PublicKeyParameters(issuer.KeyBits.ToArray(), 0));
                    var tbs = subject.TbsDer.ToArray();
                    verifier.BlockUpdate(tbs, 0, tbs.Length);
                    return verifier.VerifySignature(subject.Signature.ToArray());
                }

                default:
                    return null;
            }
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            return false;
        }
    }

    private static HashAlgorithmName HashFor(string signatureOid) => signatureOid switch
    {
        "1.2.840.10045.4.3.3" or "1.2.840.113549.1.1.12" => HashAlgorithmName.SHA384,
        "1.2.840.10045.4.3.4" or "1.2.840.113549.1.1.13" => HashAlgorithmName.SHA512,
        "1.2.840.113549.1.1.5" => HashAlgorithmName.SHA1,
        _ => HashAlgorithmName.SHA256,
    };

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
