using System.Formats.Asn1;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Identity.Pki.Time;
using Identity.Pki.X509;

namespace Identity.Pki.Inspection;

/// <summary>
/// Human-readable certificate and CSR text in the layout of <c>step certificate inspect</c> (smallstep
/// certinfo, as shipped in step v0.23.2): OpenSSL-like, but with Go's names for algorithms and usages.
/// </summary>
/// <remarks>All members are stateless and thread-safe.</remarks>
public static class CertificateText
{
    private static readonly string[] KeyUsageNames =
    [
        "Digital Signature", "Content Commitment", "Key Encipherment", "Data Encipherment", "Key Agreement",
        "Certificate Sign", "CRL Sign", "Encipher Only", "Decipher Only",
    ];

    /// <summary>The full text form of a certificate.</summary>
    public static string Format(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var parts = X509Parts.ParseCertificate(certificate.RawDataMemory);
        var b = new StringBuilder(4096);
        b.Append("Certificate:\n");
        b.Append("    Data:\n");
        AppendVersion(b, parts.Version);
        var serialBytes = CertificateFields.TrimLeadingZeros(parts.Serial.Span);
        b.Append(CultureInfo.InvariantCulture, $"        Serial Number: {parts.SerialNumber} (0x{Convert.ToHexStringLower(serialBytes)})\n");
        b.Append(CultureInfo.InvariantCulture, $"    Signature Algorithm: {CertificateFields.SignatureAlgorithmName(parts.SignatureAlgorithmOid)}\n");
        b.Append("        Issuer: ");
        AppendName(b, parts.IssuerDer);
        b.Append("        Validity\n");
        b.Append(CultureInfo.InvariantCulture, $"            Not Before: {ValidityTime(parts.NotBefore)}\n");
        b.Append(CultureInfo.InvariantCulture, $"            Not After : {ValidityTime(parts.NotAfter)}\n");
        AppendSubjectInformation(b, parts);
        if (parts.Version == 3 && parts.Extensions.Count > 0)
        {
            b.Append("        X509v3 extensions:\n");
            foreach (var extension in parts.Extensions)
            {
                AppendExtension(b, extension);
            }
        }

        AppendSignature(b, parts);
        return b.ToString();
    }

    /// <summary>The <c>--short</c> form of a certificate.</summary>
    public static string FormatShort(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var parts = X509Parts.ParseCertificate(certificate.RawDataMemory);
        var constraints = parts.Find(CertificateFields.BasicConstraints);
        var isCa = constraints is not null && CertificateFields.ParseBasicConstraints(constraints.Value).IsCa;
        var type = !isCa ? "TLS"
            : parts.SubjectDer.Span.SequenceEqual(parts.IssuerDer.Span) && CertificateFields.SignatureVerifiesWithOwnKey(parts)
                ? "Root CA"
                : "Intermediate CA";
        var serial = parts.SerialNumber.ToString(CultureInfo.InvariantCulture);
        if (serial.Length > 8)
        {
            serial = serial[..4] + "..." + serial[^4..];
        }

        var b = new StringBuilder();
        b.Append(CultureInfo.InvariantCulture, $"X.509v3 {type} Certificate ({ShortKeyAlgorithm(parts)}) [Serial: {serial}]\n");
        AppendShortSubject(b, parts);
        b.Append(CultureInfo.InvariantCulture, $"  Issuer:      {CertificateFields.CommonName(parts.IssuerDer)}\n");
        b.Append(CultureInfo.InvariantCulture, $"  Valid from:  {GoTime.Rfc3339(parts.NotBefore)}\n");
        b.Append(CultureInfo.InvariantCulture, $"          to:  {GoTime.Rfc3339(parts.NotAfter)}\n");
        return b.ToString();
    }

    /// <summary>The full text form of a PKCS#10 certificate request (DER).</summary>
    public static string FormatRequest(ReadOnlyMemory<byte> requestDer)
    {
        var parts = X509Parts.ParseRequest(requestDer);
        var b = new StringBuilder(2048);
        b.Append("Certificate Request:\n");
        b.Append("    Data:\n");
        AppendVersion(b, parts.Version);
        AppendSubjectInformation(b, parts);
        if (parts.Version == 0 && parts.Extensions.Count > 0)
        {
            b.Append("        Requested Extensions:\n");
            foreach (var extension in parts.Extensions)
            {
                AppendExtension(b, extension);
            }
        }

        AppendSignature(b, parts);
        return b.ToString();
    }

    /// <summary>The <c>--short</c> form of a PKCS#10 certificate request (DER).</summary>
    public static string FormatRequestShort(ReadOnlyMemory<byte> requestDer)
    {
        var parts = X509Parts.ParseRequest(requestDer);
        var b = new StringBuilder();
        b.Append(CultureInfo.InvariantCulture, $"X.509v3 Certificate Signing Request ({ShortKeyAlgorithm(parts)})\n");
        AppendShortSubject(b, parts);
        return b.ToString();
    }

    private static string ValidityTime(DateTimeOffset value) =>
        value.UtcDateTime.ToString("MMM d HH:mm:ss yyyy 'UTC'", CultureInfo.InvariantCulture);

    private static void AppendVersion(StringBuilder b, int version) =>
        b.Append(CultureInfo.InvariantCulture, $"        Version: {version} (0x{Math.Max(version - 1, 0):x})\n");

    private static string ShortKeyAlgorithm(X509Parts parts)
    {
        var key = CertificateFields.DescribeKey(parts);
        return key.Algorithm switch
        {
            "ECDSA" => $"ECDSA {key.Curve}",
            "RSA" => $"RSA {(key.Modulus!.Length * 8).ToString(CultureInfo.InvariantCulture)}",
            "Ed25519" => "Ed25519 256",
            _ => key.Algorithm,
        };
    }

    private static void AppendShortSubject(StringBuilder b, X509Parts parts)
    {
        var commonName = CertificateFields.CommonName(parts.SubjectDer) ?? string.Empty;
        var lines = new List<string>();
        if (commonName.Length > 0)
        {
            lines.Add(commonName);
        }

        var sanExtension = parts.Find(CertificateFields.SubjectAltName);
        if (sanExtension is not null)
        {
            var san = CertificateFields.ParseSubjectAltNames(sanExtension.Value);
            lines.AddRange(san.Dns.Concat(san.Ip).Concat(san.Email).Concat(san.Uri).Where(s => s != commonName));
        }

        if (lines.Count == 0)
        {
            b.Append("  Subject: \n");
            return;
        }

        b.Append(CultureInfo.InvariantCulture, $"  Subject:     {lines[0]}\n");
        foreach (var line in lines.Skip(1))
        {
            b.Append(CultureInfo.InvariantCulture, $"               {line}\n");
        }
    }

    private static void AppendName(StringBuilder b, ReadOnlyMemory<byte> nameDer)
    {
        var values = CertificateFields.ParseName(nameDer).Select(p => p.Oid switch
        {
            "2.5.4.3" => $"CN={p.Value}",
            "2.5.4.5" => $"SERIALNUMBER={p.Value}",
            "2.5.4.6" => $"C={p.Value}",
            "2.5.4.7" => $"L={p.Value}",
            "2.5.4.8" => $"ST={p.Value}",
            "2.5.4.9" => $"STREET={p.Value}",
            "2.5.4.10" => $"O={p.Value}",
            "2.5.4.11" => $"OU={p.Value}",
            "2.5.4.17" => $"POSTALCODE={p.Value}",
            "1.2.840.113549.1.9.1" => $"emailAddress={p.Value}",
            "0.9.2342.19200300.100.1.25" => $"DC={p.Value}",
            "0.9.2342.19200300.100.1.1" => $"UID={p.Value}",
            _ when p.Oid.StartsWith("2.5.4.", StringComparison.Ordinal) && p.Oid.Count(c => c == '.') == 3 => $"UnknownOID={p.Oid}",
            _ when p.Value is not null => $"{p.Oid}={p.Value}",
            _ => $"UnknownOID={p.Oid}",
        }).ToList();

        // As certinfo does, an empty name prints nothing at all, not even the newline.
        if (values.Count > 0)
        {
            b.Append(string.Join(',', values)).Append('\n');
        }
    }

    private static void AppendSubjectInformation(StringBuilder b, X509Parts parts)
    {
        b.Append("        Subject:");
        if (CertificateFields.ParseName(parts.SubjectDer).Count > 0)
        {
            b.Append(' ');
            AppendName(b, parts.SubjectDer);
        }
        else
        {
            b.Append('\n');
        }

        b.Append("        Subject Public Key Info:\n            Public Key Algorithm: ");
        var key = CertificateFields.DescribeKey(parts);
        switch (key.Algorithm)
        {
            case "RSA":
                b.Append("RSA\n");
                b.Append(CultureInfo.InvariantCulture, $"                Public-Key: ({key.Bits} bit)\n");
                b.Append("                Modulus:");
                AppendHexBlock(b, key.Modulus!);
                b.Append(CultureInfo.InvariantCulture, $"\n                Exponent: {key.Exponent} (0x{key.Exponent!.Value.ToString("x", CultureInfo.InvariantCulture).TrimStart('0')})\n");
                break;
            case "ECDSA":
                b.Append("ECDSA\n");
                b.Append(CultureInfo.InvariantCulture, $"                Public-Key: ({key.Bits} bit)\n");
                b.Append("                X:");
                AppendHexBlock(b, key.X ?? []);
                b.Append("\n                Y:");
                AppendHexBlock(b, key.Y ?? []);
                b.Append(CultureInfo.InvariantCulture, $"\n                Curve: {key.Curve}\n");
                break;
            case "Ed25519":
                // certinfo prints the key length in bytes but labels it "bit"; kept for fidelity.
                b.Append("Ed25519\n");
                b.Append(CultureInfo.InvariantCulture, $"                Public-Key: ({key.Raw.Length} bit)");
                AppendHexBlock(b, key.Raw);
                b.Append('\n');
                break;
            default:
                b.Append(key.Algorithm).Append('\n');
                b.Append("                Public-Key:\n");
                b.Append("                Raw Bytes:");
                AppendHexBlock(b, key.Raw);
                b.Append('\n');
                break;
        }
    }

    /// <summary>Lower-case hex, 15 bytes a line, each line indented by 20 and started with a newline.</summary>
    private static void AppendHexBlock(StringBuilder b, byte[] bytes)
    {
        for (var i = 0; i < bytes.Length; i++)
        {
            if (i % 15 == 0)
            {
                b.Append('\n').Append(' ', 20);
            }

            b.Append(bytes[i].ToString("x2", CultureInfo.InvariantCulture));
            if (i != bytes.Length - 1)
            {
                b.Append(':');
            }
        }
    }

    private static void AppendHeader(StringBuilder b, string name, RawExtension extension)
    {
        b.Append(' ', 12).Append(name).Append(':').Append(extension.Critical ? " critical\n" : "\n");
    }

    private static string UpperHex(byte[] bytes) =>
        string.Join(':', bytes.Select(x => x.ToString("X2", CultureInfo.InvariantCulture)));

    private static void AppendExtension(StringBuilder b, RawExtension extension)
    {
        const string Indent = "                ";
        switch (extension.Oid)
        {
            case CertificateFields.SubjectKeyIdentifier:
                AppendHeader(b, "X509v3 Subject Key Identifier", extension);
                b.Append(Indent).Append(UpperHex(CertificateFields.ParseSubjectKeyId(extension.Value))).Append('\n');
                break;
            case CertificateFields.KeyUsage:
                AppendHeader(b, "X509v3 Key Usage", extension);
                var usage = CertificateFields.ParseKeyUsage(extension.Value);
                var names = KeyUsageNames.Where((_, i) => (usage & (1 << i)) != 0).ToList();
                b.Append(Indent).Append(names.Count > 0 ? string.Join(", ", names) : "None").Append('\n');
                break;
            case CertificateFields.SubjectAltName:
                AppendHeader(b, "X509v3 Subject Alternative Name", extension);
                var san = CertificateFields.ParseSubjectAltNames(extension.Value);
                AppendList(b, Indent, "DNS:", san.Dns);
                AppendList(b, Indent, "email:", san.Email);
                AppendList(b, Indent, "IP Address:", san.Ip);
                AppendList(b, Indent, "URI:", san.Uri);
                foreach (var (oid, value) in san.OtherNames)
                {
                    if (oid == "1.3.6.1.4.1.311.20.2.3" && TryReadUtf8(value, out var upn))
                    {
                        b.Append(Indent).Append("UPN: ").Append(upn).Append('\n');
                    }
                    else
                    {
                        b.Append(Indent).Append(CultureInfo.InvariantCulture, $"OtherName: Type: {oid}, Value: 0x{Convert.ToHexStringLower(value)}\n");
                    }
                }

                break;
            case CertificateFields.BasicConstraints:
                var (isCa, maxPathLen) = CertificateFields.ParseBasicConstraints(extension.Value);
                AppendHeader(b, "X509v3 Basic Constraints", extension);
                b.Append(Indent).Append(isCa ? "CA:TRUE" : "CA:FALSE");
                b.Append(maxPathLen >= 0 ? string.Create(CultureInfo.InvariantCulture, $", pathlen:{maxPathLen}\n") : "\n");
                break;
            case CertificateFields.CrlDistributionPoints:
                AppendHeader(b, "X509v3 CRL Distribution Points", extension);
                var points = CertificateFields.ParseCrlDistributionPoints(extension.Value);
                if (points.Count > 0)
                {
                    b.Append(Indent).Append("Full Name:\n").Append(' ', 18).Append("URI:").Append(string.Join(", URI:", points)).Append('\n');
                }

                break;
            case CertificateFields.CertificatePolicies:
                AppendHeader(b, "X509v3 Certificate Policies", extension);
                foreach (var policy in CertificateFields.ParsePolicies(extension.Value))
                {
                    b.Append(Indent).Append("Policy: ").Append(policy).Append('\n');
                }

                break;
            case CertificateFields.AuthorityKeyIdentifier:
                // step v0.23.2's certinfo prefixes the key id with "keyid".
                AppendHeader(b, "X509v3 Authority Key Identifier", extension);
                b.Append(Indent).Append("keyid");
                foreach (var x in CertificateFields.ParseAuthorityKeyId(extension.Value))
                {
                    b.Append(':').Append(x.ToString("X2", CultureInfo.InvariantCulture));
                }

                b.Append('\n');
                break;
            case CertificateFields.ExtendedKeyUsage:
                AppendHeader(b, "X509v3 Extended Key Usage", extension);
                // Go lists the usages it knows first, then the unknown OIDs.
                var oids = CertificateFields.ParseOidSequence(extension.Value);
                var usages = oids.Select(CertificateFields.ExtendedKeyUsageName).OfType<string>()
                    .Concat(oids.Where(oid => CertificateFields.ExtendedKeyUsageName(oid) is null))
                    .ToList();
                if (usages.Count > 0)
                {
                    b.Append(Indent).Append(string.Join(", ", usages)).Append('\n');
                }

                break;
            case CertificateFields.AuthorityInfoAccess:
                AppendHeader(b, "Authority Information Access", extension);
                var (ocsp, issuers) = CertificateFields.ParseAuthorityInfoAccess(extension.Value);
                if (ocsp.Count > 0)
                {
                    b.Append(Indent).Append("OCSP - URI:").Append(string.Join(",URI:", ocsp)).Append('\n');
                }

                if (issuers.Count > 0)
                {
                    b.Append(Indent).Append("CA Issuers - URI:").Append(string.Join(",URI:", issuers)).Append('\n');
                }

                break;
            case "2.16.840.1.113730.1.13" when TryReadIa5(extension.Value, out var comment):
                AppendHeader(b, "Netscape Comment", extension);
                b.Append(Indent).Append(comment).Append('\n');
                break;
            default:
                AppendHeader(b, extension.Oid, extension);
                b.Append(Indent).Append(CertificateFields.Sanitize(extension.Value.Span)).Append('\n');
                break;
        }
    }

    private static bool TryReadUtf8(byte[] der, out string value) => TryReadString(der, UniversalTagNumber.UTF8String, out value);

    private static bool TryReadIa5(ReadOnlyMemory<byte> der, out string value) => TryReadString(der, UniversalTagNumber.IA5String, out value);

    private static bool TryReadString(ReadOnlyMemory<byte> der, UniversalTagNumber type, out string value)
    {
        try
        {
            var reader = new AsnReader(der, AsnEncodingRules.BER);
            value = reader.ReadCharacterString(type);
            return !reader.HasData;
        }
        catch (AsnContentException)
        {
            value = string.Empty;
            return false;
        }
    }

    private static void AppendList(StringBuilder b, string indent, string prefix, IReadOnlyList<string> values)
    {
        if (values.Count > 0)
        {
            b.Append(indent).Append(prefix).Append(string.Join(", " + prefix, values)).Append('\n');
        }
    }

    private static void AppendSignature(StringBuilder b, X509Parts parts)
    {
        b.Append("    Signature Algorithm: ").Append(CertificateFields.SignatureAlgorithmName(parts.SignatureAlgorithmOid));
        var signature = parts.Signature.Span;
        for (var i = 0; i < signature.Length; i++)
        {
            if (i % 18 == 0)
            {
                b.Append('\n').Append(' ', 9);
            }

            b.Append(signature[i].ToString("x2", CultureInfo.InvariantCulture));
            if (i != signature.Length - 1)
            {
                b.Append(':');
            }
        }

        b.Append('\n');
    }
}
