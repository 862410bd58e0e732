using System.Formats.Asn1;

namespace Identity.Pki.X509;

/// <summary>One extension as it appears on the wire.</summary>
/// <param name="Oid">extnID.</param>
/// <param name="Critical">The critical flag (false when absent).</param>
/// <param name="Value">The extnValue OCTET STRING content.</param>
public sealed record RawExtension(string Oid, bool Critical, ReadOnlyMemory<byte> Value)
{
    /// <summary>Reads an Extensions SEQUENCE; throws <see cref="AsnContentException"/> on malformed input.</summary>
    internal static List<RawExtension> ReadAll(AsnReader sequence)
    {
        var list = new List<RawExtension>();
        while (sequence.HasData)
        {
            var extension = sequence.ReadSequence();
            var oid = extension.ReadObjectIdentifier();
            var critical = extension.PeekTag().HasSameClassAndValue(Asn1Tag.Boolean) && extension.ReadBoolean();
            var value = extension.ReadOctetString();
            extension.ThrowIfNotEmpty();
            list.Add(new RawExtension(oid, critical, value));
        }

        return list;
    }

    /// <summary>The OID that occurs twice, or null: a signer must never have to pick one of two answers.</summary>
    internal static string? FindDuplicate(IReadOnlyList<RawExtension> extensions)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var extension in extensions)
        {
            if (!seen.Add(extension.Oid))
            {
                return extension.Oid;
            }
        }

        return null;
    }
}
