using System.Formats.Asn1;
using System.Net;

namespace Identity.Pki.X509;

/// <summary>
/// The subjectAltName extension's GeneralNames, decoded once for every reader in the project (the server's CSR
/// checks, <c>cert sign</c>, inspect): the text kinds as strings, iPAddress entries as their raw octets (so a
/// caller can see an entry of the wrong length instead of losing it), otherName values raw, and every other kind
/// counted but skipped, as Go's parser does.
/// </summary>
public sealed class GeneralNames
{
    private GeneralNames(List<string> dns, List<string> emails, List<byte[]> ips, List<string> uris,
        List<(string Oid, byte[] Value)> otherNames, int otherKinds)
    {
        DnsNames = dns;
        EmailAddresses = emails;
        IPAddresses = ips;
        Uris = uris;
        OtherNames = otherNames;
        OtherKinds = otherKinds;
    }

    /// <summary>dNSName entries, verbatim.</summary>
    public IReadOnlyList<string> DnsNames { get; }

    /// <summary>rfc822Name entries.</summary>
    public IReadOnlyList<string> EmailAddresses { get; }

    /// <summary>iPAddress entries as encoded: 4 or 16 octets when well formed, any length otherwise.</summary>
    public IReadOnlyList<byte[]> IPAddresses { get; }

    /// <summary>uniformResourceIdentifier entries.</summary>
    public IReadOnlyList<string> Uris { get; }

    /// <summary>otherName entries: the type OID and the encoded value.</summary>
    public IReadOnlyList<(string Oid, byte[] Value)> OtherNames { get; }

    /// <summary>Entries of any other kind (x400Address, directoryName, ediPartyName, registeredID, unknown tags), which nothing here reads.</summary>
    public int OtherKinds { get; }

    /// <summary>The well-formed iPAddress entries (4 or 16 octets), IPv4-mapped IPv6 shown as IPv4 as Go does.</summary>
    public IEnumerable<IPAddress> WellFormedIPAddresses() => IPAddresses.Select(ToIPAddress).OfType<IPAddress>();

    /// <summary>An iPAddress entry as an address (IPv4-mapped IPv6 as IPv4, as Go does); null unless 4 or 16 octets.</summary>
    public static IPAddress? ToIPAddress(byte[] octets)
    {
        ArgumentNullException.ThrowIfNull(octets);
        if (octets.Length is not (4 or 16))
        {
            return null;
        }

        var address = new IPAddress(octets);
        return address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
    }

    /// <summary>Decodes a subjectAltName extension value.</summary>
    /// <param name="value">The extension's OCTET STRING content (a GeneralNames SEQUENCE).</param>
    /// <param name="rules">DER for anything we act on; BER to show what a lenient encoder wrote.</param>
    public static Decoded<GeneralNames> Decode(ReadOnlyMemory<byte> value, AsnEncodingRules rules = AsnEncodingRules.DER)
    {
        var dns = new List<string>();
        var emails = new List<string>();
        var ips = new List<byte[]>();
        var uris = new List<string>();
        var others = new List<(string, byte[])>();
        var otherKinds = 0;
        var error = "malformed subjectAltName extension";
        try
        {
            var reader = new AsnReader(value, rules);
            var names = reader.ReadSequence();
            reader.ThrowIfNotEmpty();
            var index = 0;
            while (names.HasData)
            {
                index++;
                error = $"malformed subjectAltName entry {index}";
                var tag = names.PeekTag();
                // Go skips entries of any other class or tag; so do we, counting them.
                switch (tag.TagClass == TagClass.ContextSpecific ? tag.TagValue : -1)
                {
                    case 0:
                        error = $"malformed otherName in subjectAltName entry {index}";
                        var otherName = names.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true));
                        var oid = otherName.ReadObjectIdentifier();
                        var wrapped = otherName.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true));
                        others.Add((oid, wrapped.ReadEncodedValue().ToArray()));
                        wrapped.ThrowIfNotEmpty();
                        otherName.ThrowIfNotEmpty();
                        break;
                    case 1:
                        error = $"subjectAltName entry {index} (rfc822Name) is not a valid IA5String";
                        emails.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, new Asn1Tag(TagClass.ContextSpecific, tag.TagValue)));
                        break;
                    case 2:
                        error = $"subjectAltName entry {index} (dNSName) is not a valid IA5String";
                        dns.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, new Asn1Tag(TagClass.ContextSpecific, tag.TagValue)));
                        break;
                    case 6:
                        error = $"subjectAltName entry {index} (uniformResourceIdentifier) is not a valid IA5String";
                        uris.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, new Asn1Tag(TagClass.ContextSpecific, tag.TagValue)));
                        break;
                    case 7:
                        error = $"subjectAltName entry {index} (iPAddress) is not a valid OCTET STRING";
                        ips.Add(names.ReadOctetString(new Asn1Tag(TagClass.ContextSpecific, 7)));
                        break;
                    default:
                        names.ReadEncodedValue();
                        otherKinds++;
                        break;
                }
            }
        }
        catch (AsnContentException)
        {
            return Decoded.Fail<GeneralNames>(error);
        }

        return Decoded.Ok<GeneralNames>(new GeneralNames(dns, emails, ips, uris, others, otherKinds));
    }
}
