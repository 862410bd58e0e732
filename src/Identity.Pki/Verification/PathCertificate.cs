using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;
using Identity.Pki.Inspection;
using Identity.Pki.Keys;
using Identity.Pki.X509;

namespace Identity.Pki.Verification;

/// <summary>
/// One certificate as path building sees it: the fields Go's <c>crypto/x509</c> verifier reads, decoded once with
/// the project's own decoders. Anchors are decoded when their <see cref="TrustBundle"/> is built, so a
/// verification only decodes the leaf and the intermediates it is given.
/// </summary>
internal sealed class PathCertificate
{
    private const string NameConstraintsOid = "2.5.29.30";
    private const string CertificatePoliciesOid = "2.5.29.32";
    private const string CrlDistributionPointsOid = "2.5.29.31";
    private const string AuthorityInfoAccessOid = "1.3.6.1.5.5.7.1.1";
    private const string AnyExtendedKeyUsage = "2.5.29.37.0";

    // Go's KeyUsageCertSign: bit 5 of the KeyUsage BIT STRING.
    private const int KeyUsageCertSign = 1 << 5;

    private PublicKeyInfo? _key;

    private PathCertificate(X509Certificate2 certificate)
    {
        Certificate = certificate;
    }

    public X509Certificate2 Certificate { get; }

    /// <summary>Why the certificate cannot take part in a path (a field the decoders refuse), or null.</summary>
    public string? Problem { get; private init; }

    public X509Parts Parts { get; private init; } = null!;

    public ReadOnlyMemory<byte> Subject => Parts.SubjectDer;

    public ReadOnlyMemory<byte> Issuer => Parts.IssuerDer;

    public byte[]? SubjectKeyId { get; private init; }

    public byte[]? AuthorityKeyId { get; private init; }

    public bool HasBasicConstraints { get; private init; }

    public bool IsCa { get; private init; }

    /// <summary>The path-length constraint, -1 when there is none.</summary>
    public int MaxPathLength { get; private init; } = -1;

    /// <summary>False when a KeyUsage extension is present without keyCertSign.</summary>
    public bool MaySignCertificates { get; private init; } = true;

    /// <summary>Null when the certificate has no ExtendedKeyUsage extension (it then permits every usage).</summary>
    public IReadOnlyList<string>? ExtendedKeyUsages { get; private init; }

    public bool HasUnhandledCriticalExtension { get; private init; }

    /// <summary>The subject alternative names, null when the certificate has no such extension.</summary>
    public GeneralNames? AlternativeNames { get; private init; }

    public NameConstraints? Constraints { get; private init; }

    /// <summary>
    /// The public key, decoded on first use: only issuers need it, and a leaf checked on every TLS handshake
    /// should not pay for its key's on-curve check. A race decodes twice and keeps either equal result.
    /// </summary>
    public PublicKeyInfo? Key => _key ??= PublicKeyInfo.Decode(Parts.SpkiDer).Value;

    /// <summary>Decodes <paramref name="certificate"/>; a certificate the decoders refuse gets a <see cref="Problem"/>.</summary>
    public static PathCertificate Of(X509Certificate2 certificate)
    {
        var decoded = X509Parts.DecodeCertificate(certificate.RawDataMemory);
        if (decoded.Value is not { } parts)
        {
            return new PathCertificate(certificate) { Problem = decoded.Error };
        }

        try
        {
            return Read(certificate, parts);
        }
        catch (PkiException e)
        {
            return new PathCertificate(certificate) { Parts = parts, Problem = e.Message };
        }
    }

    /// <summary>
    /// Whether <paramref name="other"/> is the same CA as this one for Go's cycle check (same subject, same key):
    /// a path never uses one twice.
    /// </summary>
    public bool SameSubjectAndKey(PathCertificate other) =>
        Subject.Span.SequenceEqual(other.Subject.Span) && Parts.SpkiDer.Span.SequenceEqual(other.Parts.SpkiDer.Span);

    /// <summary>Whether the certificate permits every usage in <paramref name="usages"/> (true without the extension).</summary>
    public bool Permits(IReadOnlyList<string> usages) =>
        ExtendedKeyUsages is not { } permitted
        || permitted.Contains(AnyExtendedKeyUsage, StringComparer.Ordinal)
        || usages.All(u => permitted.Contains(u, StringComparer.Ordinal));

    /// <summary>Whether this certificate's signature verifies with <paramref name="issuer"/>'s key.</summary>
    public bool IsSignedBy(PathCertificate issuer) =>
        issuer.Key is { } key && CertificateFields.VerifySignature(Parts, key) == true;

    private static PathCertificate Read(X509Certificate2 certificate, X509Parts parts)
    {
        byte[]? subjectKeyId = null;
        byte[]? authorityKeyId = null;
        var hasBasicConstraints = false;
        var isCa = false;
        var maxPathLength = -1;
        var maySign = true;
        List<string>? extendedKeyUsages = null;
        var unhandledCritical = false;
        GeneralNames? names = null;
        NameConstraints? constraints = null;
        foreach (var extension in parts.Extensions)
        {
            switch (extension.Oid)
            {
                case Oids.SubjectKeyIdentifier:
                    subjectKeyId = CertificateFields.ParseSubjectKeyId(extension.Value);
                    break;
                case Oids.AuthorityKeyIdentifier:
                    authorityKeyId = CertificateFields.ParseAuthorityKeyId(extension.Value);
                    break;
                case Oids.BasicConstraints:
                    hasBasicConstraints = true;
                    (isCa, maxPathLength) = CertificateFields.ParseBasicConstraints(extension.Value);
                    break;
                case Oids.KeyUsage:
                    var usage = CertificateFields.ParseKeyUsage(extension.Value);
                    maySign = usage == 0 || (usage & KeyUsageCertSign) != 0;
                    break;
                case Oids.ExtendedKeyUsage:
                    extendedKeyUsages = CertificateFields.ParseOidSequence(extension.Value);
                    break;
                case Oids.SubjectAltName:
                    names = GeneralNames.Decode(extension.Value).ValueOrThrow("subjectAltName");
                    break;
                case NameConstraintsOid:
                    constraints = NameConstraints.Decode(extension.Value);
                    unhandledCritical |= extension.Critical && constraints.HasUnsupportedForms;
                    break;
                case CertificatePoliciesOid or CrlDistributionPointsOid or AuthorityInfoAccessOid:
                    break;
                default:
                    unhandledCritical |= extension.Critical;
                    break;
            }
        }

        return new PathCertificate(certificate)
        {
            Parts = parts,
            SubjectKeyId = subjectKeyId is { Length: > 0 } ? subjectKeyId : null,
            AuthorityKeyId = authorityKeyId is { Length: > 0 } ? authorityKeyId : null,
            HasBasicConstraints = hasBasicConstraints,
            IsCa = isCa,
            MaxPathLength = maxPathLength,
            MaySignCertificates = maySign,
            ExtendedKeyUsages = extendedKeyUsages,
            HasUnhandledCriticalExtension = unhandledCritical,
            AlternativeNames = names,
            Constraints = constraints,
        };
    }
}

/// <summary>
/// A CA's name constraints (RFC 5280 §4.2.1.10) for the name forms Go checks: DNS names, IP ranges, e-mail
/// addresses and URI hosts. Each subtree's base is read with the one GeneralName decoder.
/// </summary>
internal sealed class NameConstraints
{
    private NameConstraints(GeneralNames permitted, GeneralNames excluded, bool hasUnsupportedForms)
    {
        Permitted = permitted;
        Excluded = excluded;
        HasUnsupportedForms = hasUnsupportedForms;
    }

    public GeneralNames Permitted { get; }

    public GeneralNames Excluded { get; }

    /// <summary>True when a subtree uses a form not checked here (directoryName, otherName, ...).</summary>
    public bool HasUnsupportedForms { get; }

    /// <exception cref="PkiException">The extension is malformed.</exception>
    public static NameConstraints Decode(ReadOnlyMemory<byte> value)
    {
        try
        {
            var reader = new AsnReader(value, AsnEncodingRules.DER);
            var sequence = reader.ReadSequence();
            reader.ThrowIfNotEmpty();
            var unsupported = false;
            var permitted = ReadSubtrees(sequence, 0, ref unsupported);
            var excluded = ReadSubtrees(sequence, 1, ref unsupported);
            sequence.ThrowIfNotEmpty();
            return new NameConstraints(permitted, excluded, unsupported);
        }
        catch (AsnContentException e)
        {
            throw new PkiException("x509: malformed name constraints extension", e);
        }
    }

    /// <summary>
    /// Go's reason for the first name of <paramref name="names"/> outside these constraints (as in
    /// <c>DNS name "a.example.org" is not permitted by any constraint</c>), or null when every name is inside.
    /// </summary>
    public string? Check(GeneralNames names)
    {
        foreach (var dns in names.DnsNames)
        {
            if (Violation("DNS name", dns, dns, Permitted.DnsNames, Excluded.DnsNames, MatchDomain) is { } reason)
            {
                return reason;
            }
        }

        foreach (var email in names.EmailAddresses)
        {
            if (Violation("email address", email, email, Permitted.EmailAddresses, Excluded.EmailAddresses, MatchEmail) is { } reason)
            {
                return reason;
            }
        }

        foreach (var uri in names.Uris)
        {
            var host = Uri.TryCreate(uri, UriKind.Absolute, out var parsed) ? parsed.IdnHost : "";
            if (Violation("URI", uri, host, Permitted.Uris, Excluded.Uris, MatchDomain) is { } reason)
            {
                return reason;
            }
        }

        foreach (var ip in names.IPAddresses)
        {
            var shown = GeneralNames.ToIPAddress(ip)?.ToString() ?? Convert.ToHexString(ip);
            if (Excluded.IPAddresses.FirstOrDefault(range => MatchIp(ip, range)) is { } excluded)
            {
                return $"IP address \"{shown}\" is excluded by constraint \"{Convert.ToHexString(excluded)}\"";
            }

            if (Permitted.IPAddresses.Count > 0 && !Permitted.IPAddresses.Any(range => MatchIp(ip, range)))
            {
                return $"IP address \"{shown}\" is not permitted by any constraint";
            }
        }

        return null;
    }

    private static string? Violation(
        string form,
        string name,
        string matched,
        IReadOnlyList<string> permitted,
        IReadOnlyList<string> excluded,
        Func<string, string, bool> match)
    {
        if (excluded.FirstOrDefault(constraint => match(matched, constraint)) is { } rule)
        {
            return $"{form} \"{name}\" is excluded by constraint \"{rule}\"";
        }

        return permitted.Count == 0 || permitted.Any(constraint => match(matched, constraint))
            ? null
            : $"{form} \"{name}\" is not permitted by any constraint";
    }

    /// <summary>Go's <c>matchDomainConstraint</c>: "example.com" covers it and its subdomains, ".example.com" only subdomains.</summary>
    private static bool MatchDomain(string name, string constraint)
    {
        if (constraint.Length == 0)
        {
            return true;
        }

        name = name.TrimEnd('.');
        if (constraint[0] == '.')
        {
            return name.Length > constraint.Length && name.EndsWith(constraint, StringComparison.OrdinalIgnoreCase);
        }

        return string.Equals(name, constraint, StringComparison.OrdinalIgnoreCase)
            || (name.Length > constraint.Length
                && name.EndsWith(constraint, StringComparison.OrdinalIgnoreCase)
                && name[name.Length - constraint.Length - 1] == '.');
    }

    /// <summary>Go's <c>matchEmailConstraint</c>: a whole mailbox, or a domain as for DNS names.</summary>
    private static bool MatchEmail(string mailbox, string constraint)
    {
        if (constraint.Contains('@', StringComparison.Ordinal))
        {
            return string.Equals(mailbox, constraint, StringComparison.OrdinalIgnoreCase);
        }

        var at = mailbox.LastIndexOf('@');
        return at >= 0 && MatchDomain(mailbox[(at + 1)..], constraint);
    }

    private static bool MatchIp(byte[] ip, byte[] range)
    {
        if (range.Length != 2 * ip.Length)
        {
            return false;
        }

        for (var i = 0; i < ip.Length; i++)
        {
            var mask = range[ip.Length + i];
            if ((ip[i] & mask) != (range[i] & mask))
            {
                return false;
            }
        }

        return true;
    }

    private static GeneralNames ReadSubtrees(AsnReader sequence, int tag, ref bool unsupported)
    {
        var context = new Asn1Tag(TagClass.ContextSpecific, tag, isConstructed: true);
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            if (sequence.HasData && sequence.PeekTag().HasSameClassAndValue(context))
            {
                var subtrees = sequence.ReadSequence(context);
                while (subtrees.HasData)
                {
                    var subtree = subtrees.ReadSequence();
                    var name = subtree.ReadEncodedValue();
                    var kind = new AsnReader(name, AsnEncodingRules.DER).PeekTag();

                    // minimum and maximum are always 0 and absent in profiles Go accepts; it ignores them too.
                    if (kind.TagClass == TagClass.ContextSpecific && kind.TagValue is 1 or 2 or 6 or 7)
                    {
                        writer.WriteEncodedValue(name.Span);
                    }
                    else
                    {
                        unsupported = true;
                    }
                }
            }
        }

        return GeneralNames.Decode(writer.Encode()).ValueOrThrow("name constraints");
    }
}
