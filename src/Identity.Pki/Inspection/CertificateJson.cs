using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Identity.Pki.Time;
using Identity.Pki.X509;

namespace Identity.Pki.Inspection;

/// <summary>
/// JSON in the shape of <c>step certificate inspect --format json</c> (smallstep/zcrypto's certificate JSON):
/// the same keys, nesting and value encodings (decimal serial, base64 bytes, hex key ids, RFC 3339 times).
/// </summary>
/// <remarks>
/// Values that are zcrypto-internal are filled the way zcrypto fills them for a certificate inspected on its
/// own: <c>signature.valid</c> is false (no parent was checked), <c>validation_level</c> is "unknown",
/// <c>redacted</c> is false, and <c>tbs_noct_fingerprint</c> equals <c>tbs_fingerprint</c> unless the
/// certificate carries Certificate Transparency extensions, which are then removed from the TBS before hashing.
/// Stateless and thread-safe.
/// </remarks>
public static class CertificateJson
{
    private static readonly JsonWriterOptions Options = new()
    {
        Indented = true,
        // Go escapes only <, > and &; base64's '+' must stay literal.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static readonly (string Oid, string Key)[] NameKeys =
    [
        ("2.5.4.3", "common_name"), ("2.5.4.5", "serial_number"), ("2.5.4.6", "country"), ("2.5.4.7", "locality"),
        ("2.5.4.8", "province"), ("2.5.4.9", "street_address"), ("2.5.4.10", "organization"),
        ("2.5.4.11", "organizational_unit"), ("2.5.4.17", "postal_code"),
        ("0.9.2342.19200300.100.1.25", "domain_component"), ("1.2.840.113549.1.9.1", "email_address"),
        ("2.5.4.42", "given_name"), ("2.5.4.4", "surname"),
    ];

    private static readonly string[] KeyUsageKeys =
    [
        "digital_signature", "content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
        "certificate_sign", "crl_sign", "encipher_only", "decipher_only",
    ];

    private static readonly Dictionary<string, string> ExtendedKeyUsageKeys = new(StringComparer.Ordinal)
    {
        ["2.5.29.37.0"] = "any",
        ["1.3.6.1.5.5.7.3.1"] = "server_auth",
        ["1.3.6.1.5.5.7.3.2"] = "client_auth",
        ["1.3.6.1.5.5.7.3.3"] = "code_signing",
        ["1.3.6.1.5.5.7.3.4"] = "email_protection",
        ["1.3.6.1.5.5.7.3.5"] = "ipsec_end_system",
        ["1.3.6.1.5.5.7.3.6"] = "ipsec_tunnel",
        ["1.3.6.1.5.5.7.3.7"] = "ipsec_user",
        ["1.3.6.1.5.5.7.3.8"] = "time_stamping",
        ["1.3.6.1.5.5.7.3.9"] = "ocsp_signing",
    };

    /// <summary>One certificate as a JSON object, or several (<paramref name="asArray"/>) as an array; ends with a newline.</summary>
    public static string Format(IReadOnlyList<X509Certificate2> certificates, bool asArray)
    {
        ArgumentNullException.ThrowIfNull(certificates);
        return WriteDocument(certificates, asArray, (w, certificate) => WriteCertificate(w, X509Parts.ParseCertificate(certificate.RawDataMemory)));
    }

    /// <summary>
    /// A PKCS#10 request (DER) as JSON with the same building blocks as a certificate (subject, key info,
    /// requested extensions, signature); <c>signature.valid</c> is the result of checking the request's
    /// self-signature. Several requests (<paramref name="asArray"/>) form an array; ends with a newline.
    /// </summary>
    public static string FormatRequests(IReadOnlyList<ReadOnlyMemory<byte>> requests, bool asArray)
    {
        ArgumentNullException.ThrowIfNull(requests);
        return WriteDocument(requests, asArray, (w, der) => WriteRequest(w, X509Parts.ParseRequest(der)));
    }

    /// <summary>The first item as an object, or every item in an array (step's --bundle), then a newline.</summary>
    private static string WriteDocument<T>(IReadOnlyList<T> items, bool asArray, Action<Utf8JsonWriter, T> write)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, Options))
        {
            if (asArray)
            {
                w.WriteStartArray();
            }

            foreach (var item in asArray ? items : items.Take(1))
            {
                write(w, item);
            }

            if (asArray)
            {
                w.WriteEndArray();
            }
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void WriteRequest(Utf8JsonWriter w, X509Parts parts)
    {
        w.WriteStartObject();
        w.WriteNumber("version", parts.Version);
        WriteAlgorithm(w, "signature_algorithm", parts.SignatureAlgorithmOid);
        WriteName(w, "subject", parts.SubjectDer);
        w.WriteString("subject_dn", DistinguishedName(parts.SubjectDer));
        WriteSubjectKeyInfo(w, parts);
        WriteExtensions(w, parts);
        w.WriteStartObject("signature");
        WriteAlgorithm(w, "signature_algorithm", parts.SignatureAlgorithmOid);
        w.WriteBase64String("value", parts.Signature.Span);
        w.WriteBoolean("valid", CertificateFields.SignatureVerifiesWithOwnKey(parts));
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteCertificate(Utf8JsonWriter w, X509Parts parts)
    {
        w.WriteStartObject();
        w.WriteNumber("version", parts.Version);
        w.WriteString("serial_number", parts.SerialNumber.ToString(CultureInfo.InvariantCulture));
        WriteAlgorithm(w, "signature_algorithm", parts.SignatureAlgorithmOid);
        WriteName(w, "issuer", parts.IssuerDer);
        w.WriteString("issuer_dn", DistinguishedName(parts.IssuerDer));
        w.WriteStartObject("validity");
        w.WriteString("start", GoTime.Rfc3339(parts.NotBefore));
        w.WriteString("end", GoTime.Rfc3339(parts.NotAfter));
        w.WriteNumber("length", (long)(parts.NotAfter - parts.NotBefore).TotalSeconds);
        w.WriteEndObject();
        WriteName(w, "subject", parts.SubjectDer);
        w.WriteString("subject_dn", DistinguishedName(parts.SubjectDer));
        WriteSubjectKeyInfo(w, parts);
        WriteExtensions(w, parts);

        w.WriteStartObject("signature");
        WriteAlgorithm(w, "signature_algorithm", parts.SignatureAlgorithmOid);
        w.WriteBase64String("value", parts.Signature.Span);
        w.WriteBoolean("valid", false);
        w.WriteBoolean("self_signed",
            parts.SubjectDer.Span.SequenceEqual(parts.IssuerDer.Span) && CertificateFields.SignatureVerifiesWithOwnKey(parts));
        w.WriteEndObject();

        var der = parts.Der.Span;
        // MD5 and SHA-1 are display-only fingerprints that step prints; nothing is trusted on them.
#pragma warning disable CA5350, CA5351
        w.WriteString("fingerprint_md5", Convert.ToHexStringLower(MD5.HashData(der)));
        w.WriteString("fingerprint_sha1", Convert.ToHexStringLower(SHA1.HashData(der)));
#pragma warning restore CA5350, CA5351
        w.WriteString("fingerprint_sha256", Convert.ToHexStringLower(SHA256.HashData(der)));
        var tbsFingerprint = Convert.ToHexStringLower(SHA256.HashData(parts.TbsDer.Span));
        w.WriteString("tbs_noct_fingerprint", TbsWithoutCtFingerprint(parts) ?? tbsFingerprint);
        w.WriteString("spki_subject_fingerprint",
            Convert.ToHexStringLower(SHA256.HashData([.. parts.SpkiDer.Span, .. parts.SubjectDer.Span])));
        w.WriteString("tbs_fingerprint", tbsFingerprint);
        w.WriteString("validation_level", "unknown");

        w.WriteStartArray("names");
        foreach (var name in Names(parts))
        {
            w.WriteStringValue(name);
        }

        w.WriteEndArray();
        w.WriteBoolean("redacted", false);
        w.WriteEndObject();
    }

    private static List<string> Names(X509Parts parts)
    {
        var names = new List<string>();
        foreach (var (oid, value) in CertificateFields.ParseName(parts.SubjectDer))
        {
            if (oid == "2.5.4.3" && value is not null)
            {
                names.Add(value);
            }
        }

        var san = parts.Find(CertificateFields.SubjectAltName);
        if (san is not null)
        {
            var parsed = CertificateFields.ParseSubjectAltNames(san.Value);
            names.AddRange(parsed.Dns);
            names.AddRange(parsed.Email);
            names.AddRange(parsed.Ip);
            names.AddRange(parsed.Uri);
        }

        return names.Distinct(StringComparer.Ordinal).ToList();
    }

    private static void WriteAlgorithm(Utf8JsonWriter w, string property, string oid)
    {
        w.WriteStartObject(property);
        w.WriteString("name", CertificateFields.SignatureAlgorithmName(oid));
        w.WriteString("oid", oid);
        w.WriteEndObject();
    }

    private static void WriteName(Utf8JsonWriter w, string property, ReadOnlyMemory<byte> nameDer)
    {
        var attributes = CertificateFields.ParseName(nameDer);
        w.WriteStartObject(property);
        foreach (var (oid, key) in NameKeys)
        {
            WriteStrings(w, key, attributes.Where(a => a.Oid == oid && a.Value is not null).Select(a => a.Value!).ToList());
        }

        w.WriteEndObject();
    }

    /// <summary>Go-style distinguished name: attributes in reverse encoded order, comma separated.</summary>
    private static string DistinguishedName(ReadOnlyMemory<byte> nameDer)
    {
        var shortNames = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["2.5.4.3"] = "CN", ["2.5.4.5"] = "SERIALNUMBER", ["2.5.4.6"] = "C", ["2.5.4.7"] = "L",
            ["2.5.4.8"] = "ST", ["2.5.4.9"] = "STREET", ["2.5.4.10"] = "O", ["2.5.4.11"] = "OU",
            ["2.5.4.17"] = "POSTALCODE", ["0.9.2342.19200300.100.1.25"] = "DC",
        };
        var parts = CertificateFields.ParseName(nameDer)
            .Select(a => $"{(shortNames.TryGetValue(a.Oid, out var n) ? n : a.Oid)}={a.Value}")
            .Reverse();
        return string.Join(", ", parts);
    }

    private static void WriteSubjectKeyInfo(Utf8JsonWriter w, X509Parts parts)
    {
        var key = CertificateFields.DescribeKey(parts);
        w.WriteStartObject("subject_key_info");
        w.WriteStartObject("key_algorithm");
        w.WriteString("name", key.Algorithm);
        w.WriteEndObject();
        switch (key.Algorithm)
        {
            // Curve parameters only for the curves this project accepts; the platform is never asked about others.
            case "ECDSA" when EllipticCurve.FromOid(key.CurveOid) is { } known && key.X is not null:
                {
                    var curve = known.Explicit;
                    w.WriteStartObject("ecdsa_public_key");
                    WriteBigInt(w, "b", curve.B!);
                    w.WriteString("curve", key.Curve);
                    WriteBigInt(w, "gx", curve.G.X!);
                    WriteBigInt(w, "gy", curve.G.Y!);
                    w.WriteNumber("length", key.Bits);
                    WriteBigInt(w, "n", curve.Order!);
                    WriteBigInt(w, "p", curve.Prime!);
                    w.WriteBase64String("pub", key.Raw);
                    w.WriteBase64String("x", key.X);
                    w.WriteBase64String("y", key.Y!);
                    w.WriteEndObject();
                }

                break;
            case "RSA":
                w.WriteStartObject("rsa_public_key");
                w.WriteNumber("exponent", (long)key.Exponent!.Value);
                w.WriteBase64String("modulus", key.Modulus!);
                w.WriteNumber("length", key.Bits);
                w.WriteEndObject();
                break;
            case "Ed25519":
                w.WriteStartObject("ed25519_public_key");
                w.WriteBase64String("public_key", key.Raw);
                w.WriteEndObject();
                break;
        }

        w.WriteString("fingerprint_sha256", Convert.ToHexStringLower(SHA256.HashData(parts.SpkiDer.Span)));
        w.WriteEndObject();
    }

    private static void WriteBigInt(Utf8JsonWriter w, string property, byte[] bigEndian) =>
        w.WriteBase64String(property, CertificateFields.TrimLeadingZeros(bigEndian));

    private static void WriteExtensions(Utf8JsonWriter w, X509Parts parts)
    {
        if (parts.Extensions.Count == 0)
        {
            return;
        }

        w.WriteStartObject("extensions");
        if (parts.Find(CertificateFields.KeyUsage) is { } ku)
        {
            var usage = CertificateFields.ParseKeyUsage(ku.Value);
            w.WriteStartObject("key_usage");
            for (var i = 0; i < KeyUsageKeys.Length; i++)
            {
                if ((usage & (1 << i)) != 0)
                {
                    w.WriteBoolean(KeyUsageKeys[i], true);
                }
            }

            w.WriteNumber("value", usage);
            w.WriteEndObject();
        }

        if (parts.Find(CertificateFields.BasicConstraints) is { } bc)
        {
            var (isCa, maxPathLen) = CertificateFields.ParseBasicConstraints(bc.Value);
            w.WriteStartObject("basic_constraints");
            w.WriteBoolean("is_ca", isCa);
            if (maxPathLen >= 0)
            {
                w.WriteNumber("max_path_len", maxPathLen);
            }

            w.WriteEndObject();
        }

        if (parts.Find(CertificateFields.SubjectAltName) is { } sanExtension)
        {
            var san = CertificateFields.ParseSubjectAltNames(sanExtension.Value);
            w.WriteStartObject("subject_alt_name");
            WriteStrings(w, "dns_names", san.Dns);
            WriteStrings(w, "email_addresses", san.Email);
            WriteStrings(w, "ip_addresses", san.Ip);
            WriteStrings(w, "uniform_resource_identifiers", san.Uri);
            w.WriteEndObject();
        }

        if (parts.Find(CertificateFields.CrlDistributionPoints) is { } crl)
        {
            WriteStrings(w, "crl_distribution_points", CertificateFields.ParseCrlDistributionPoints(crl.Value));
        }

        if (parts.Find(CertificateFields.AuthorityKeyIdentifier) is { } aki)
        {
            w.WriteString("authority_key_id", Convert.ToHexStringLower(CertificateFields.ParseAuthorityKeyId(aki.Value)));
        }

        if (parts.Find(CertificateFields.SubjectKeyIdentifier) is { } ski)
        {
            w.WriteString("subject_key_id", Convert.ToHexStringLower(CertificateFields.ParseSubjectKeyId(ski.Value)));
        }

        if (parts.Find(CertificateFields.ExtendedKeyUsage) is { } eku)
        {
            var known = new SortedDictionary<string, bool>(StringComparer.Ordinal);
            var unknown = new List<string>();
            foreach (var oid in CertificateFields.ParseOidSequence(eku.Value))
            {
                if (ExtendedKeyUsageKeys.TryGetValue(oid, out var key))
                {
                    known[key] = true;
                }
                else
                {
                    unknown.Add(oid);
                }
            }

            w.WriteStartObject("extended_key_usage");
            foreach (var (key, _) in known)
            {
                w.WriteBoolean(key, true);
            }

            WriteStrings(w, "unknown", unknown);
            w.WriteEndObject();
        }

        if (parts.Find(CertificateFields.CertificatePolicies) is { } policies)
        {
            w.WriteStartArray("certificate_policies");
            foreach (var policy in CertificateFields.ParsePolicies(policies.Value))
            {
                w.WriteStartObject();
                w.WriteString("id", policy);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        if (parts.Find(CertificateFields.AuthorityInfoAccess) is { } aia)
        {
            var (ocsp, issuers) = CertificateFields.ParseAuthorityInfoAccess(aia.Value);
            w.WriteStartObject("authority_info_access");
            WriteStrings(w, "ocsp_urls", ocsp);
            WriteStrings(w, "issuer_urls", issuers);
            w.WriteEndObject();
        }

        w.WriteEndObject();
    }

    private static void WriteStrings(Utf8JsonWriter w, string property, IReadOnlyList<string> values)
    {
        if (values.Count == 0)
        {
            return;
        }

        w.WriteStartArray(property);
        foreach (var value in values)
        {
            w.WriteStringValue(value);
        }

        w.WriteEndArray();
    }

    /// <summary>SHA-256 of the TBS without CT poison/SCT extensions, or null when it has none.</summary>
    private static string? TbsWithoutCtFingerprint(X509Parts parts)
    {
        const string Poison = "1.3.6.1.4.1.11129.2.4.3";
        const string Scts = "1.3.6.1.4.1.11129.2.4.2";
        if (!parts.Extensions.Any(e => e.Oid is Poison or Scts))
        {
            return null;
        }

        var reader = new System.Formats.Asn1.AsnReader(parts.TbsDer, System.Formats.Asn1.AsnEncodingRules.DER).ReadSequence();
        var writer = new System.Formats.Asn1.AsnWriter(System.Formats.Asn1.AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            var extensionsTag = new System.Formats.Asn1.Asn1Tag(System.Formats.Asn1.TagClass.ContextSpecific, 3, isConstructed: true);
            while (reader.HasData)
            {
                if (!reader.PeekTag().HasSameClassAndValue(extensionsTag))
                {
                    writer.WriteEncodedValue(reader.ReadEncodedValue().Span);
                    continue;
                }

                reader.ReadEncodedValue();
                using (writer.PushSequence(extensionsTag))
                using (writer.PushSequence())
                {
                    foreach (var extension in parts.Extensions.Where(e => e.Oid is not (Poison or Scts)))
                    {
                        using (writer.PushSequence())
                        {
                            writer.WriteObjectIdentifier(extension.Oid);
                            if (extension.Critical)
                            {
                                writer.WriteBoolean(true);
                            }

                            writer.WriteOctetString(extension.Value.Span);
                        }
                    }
                }
            }
        }

        return Convert.ToHexStringLower(SHA256.HashData(writer.Encode()));
    }
}
