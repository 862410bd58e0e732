using System.Formats.Asn1;

namespace Identity.Pki.X509;

/// <summary>One attribute of a Name, in encoded order.</summary>
/// <param name="Oid">The attribute type.</param>
/// <param name="Value">The value when it is one of the text types; null for any other type.</param>
/// <param name="ValueTag">The ASN.1 type of the value as encoded.</param>
public sealed record NameComponent(string Oid, string? Value, Asn1Tag ValueTag);

/// <summary>
/// An X.501 Name (RDNSequence) decoded without the platform's X500DistinguishedName, whose enumerators throw on
/// input they cannot decode: every attribute of every RDN, multi-valued RDNs flattened in order, as Go's
/// <c>pkix.Name</c> sees them.
/// </summary>
public sealed class DistinguishedName
{
    private const string CommonNameOid = "2.5.4.3";

    private DistinguishedName(ReadOnlyMemory<byte> der, IReadOnlyList<NameComponent> attributes)
    {
        Der = der;
        Attributes = attributes;
    }

    /// <summary>The Name as encoded.</summary>
    public ReadOnlyMemory<byte> Der { get; }

    /// <summary>The attributes, RDN by RDN in encoded order.</summary>
    public IReadOnlyList<NameComponent> Attributes { get; }

    /// <summary>The last CN, as Go keeps it; null when there is none or it is not text.</summary>
    public string? CommonName => Attributes.LastOrDefault(a => a.Oid == CommonNameOid)?.Value;

    /// <summary>Decodes a Name.</summary>
    /// <param name="der">The encoded Name (a SEQUENCE OF RelativeDistinguishedName).</param>
    /// <param name="rules">DER for anything signed that we act on; BER to show what a lenient encoder wrote.</param>
    public static Decoded<DistinguishedName> Decode(ReadOnlyMemory<byte> der, AsnEncodingRules rules = AsnEncodingRules.DER)
    {
        var attributes = new List<NameComponent>();
        var error = "malformed Name";
        try
        {
            var reader = new AsnReader(der, rules);
            var rdns = reader.ReadSequence();
            reader.ThrowIfNotEmpty();
            var rdnIndex = 0;
            while (rdns.HasData)
            {
                rdnIndex++;
                error = $"malformed RDN {rdnIndex}";
                var set = rdns.ReadSetOf(skipSortOrderValidation: true);
                if (!set.HasData)
                {
                    return Decoded.Fail<DistinguishedName>($"RDN {rdnIndex} is empty");
                }

                while (set.HasData)
                {
                    var pair = set.ReadSequence();
                    error = $"RDN {rdnIndex}: malformed attribute type";
                    var oid = pair.ReadObjectIdentifier();
                    error = $"RDN {rdnIndex}: malformed value of attribute {oid}";
                    var tag = pair.PeekTag();
                    string? value = null;
                    if (DerReading.IsText(tag))
                    {
                        error = $"RDN {rdnIndex}: attribute {oid} is not a valid {DerReading.TypeName(tag)}";
                        value = pair.ReadCharacterString((UniversalTagNumber)tag.TagValue);
                    }
                    else
                    {
                        pair.ReadEncodedValue();
                    }

                    error = $"RDN {rdnIndex}: malformed attribute {oid}";
                    pair.ThrowIfNotEmpty();
                    attributes.Add(new NameComponent(oid, value, tag));
                }
            }
        }
        catch (AsnContentException)
        {
            return Decoded.Fail<DistinguishedName>(error);
        }

        return Decoded.Ok<DistinguishedName>(new DistinguishedName(der, attributes));
    }
}
