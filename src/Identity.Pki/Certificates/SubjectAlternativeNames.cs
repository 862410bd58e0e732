using System.Formats.Asn1;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Identity.Pki.X509;

namespace Identity.Pki.Certificates;

/// <summary>
/// SAN classification and encoding with Go / step rules (<c>x509util.SplitSANs</c>): an entry is an IP if it
/// parses as one, else a URI if it has a scheme, else an email if it contains <c>@</c>, else a DNS name
/// (verbatim: no IDNA, no lowercasing). Encoded in Go's order: all DNS, all email, all IP, all URI.
/// </summary>
public sealed partial record SubjectAlternativeNames(
    IReadOnlyList<string> DnsNames,
    IReadOnlyList<string> EmailAddresses,
    IReadOnlyList<IPAddress> IPAddresses,
    IReadOnlyList<string> Uris)
{
    /// <summary>True when there is no entry at all.</summary>
    public bool IsEmpty => DnsNames.Count + EmailAddresses.Count + IPAddresses.Count + Uris.Count == 0;

    /// <summary>Classifies the entries (empty ones are skipped).</summary>
    /// <exception cref="PkiException">An entry cannot be encoded (non-ASCII text).</exception>
    public static SubjectAlternativeNames Classify(IEnumerable<string> sans)
    {
        ArgumentNullException.ThrowIfNull(sans);
        var dns = new List<string>();
        var emails = new List<string>();
        var ips = new List<IPAddress>();
        var uris = new List<string>();
        foreach (var san in sans)
        {
            if (string.IsNullOrEmpty(san))
            {
                continue;
            }

            if (TryParseGoIP(san, out var ip))
            {
                ips.Add(ip);
                continue;
            }

            RequireIa5(san);
            if (HasUrlScheme(san))
            {
                uris.Add(san);
            }
            else if (san.Contains('@', StringComparison.Ordinal))
            {
                emails.Add(san);
            }
            else
            {
                dns.Add(san);
            }
        }

        return new SubjectAlternativeNames(dns, emails, ips, uris);
    }

    /// <summary>The DER value of the subjectAltName extension (a GeneralNames SEQUENCE).</summary>
    public byte[] Encode()
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            foreach (var dns in DnsNames)
            {
                writer.WriteCharacterString(UniversalTagNumber.IA5String, dns, new Asn1Tag(TagClass.ContextSpecific, 2));
            }

            foreach (var email in EmailAddresses)
            {
                writer.WriteCharacterString(UniversalTagNumber.IA5String, email, new Asn1Tag(TagClass.ContextSpecific, 1));
            }

            foreach (var ip in IPAddresses)
            {
                writer.WriteOctetString(ip.GetAddressBytes(), new Asn1Tag(TagClass.ContextSpecific, 7));
            }

            foreach (var uri in Uris)
            {
                writer.WriteCharacterString(UniversalTagNumber.IA5String, uri, new Asn1Tag(TagClass.ContextSpecific, 6));
            }
        }

        return writer.Encode();
    }

    /// <summary>Decodes a subjectAltName extension value with <see cref="GeneralNames"/>; see <see cref="From"/>.</summary>
    /// <exception cref="PkiException">The extension is malformed.</exception>
    public static SubjectAlternativeNames Decode(ReadOnlyMemory<byte> extensionValue) =>
        From(GeneralNames.Decode(extensionValue).ValueOrThrow("subjectAltName extension"));

    /// <summary>
    /// The entries of a decoded subjectAltName that can be written again: iPAddress entries of the wrong length
    /// and the kinds this type does not model (otherName, directoryName, ...) are left out.
    /// </summary>
    public static SubjectAlternativeNames From(GeneralNames names)
    {
        ArgumentNullException.ThrowIfNull(names);
        return new SubjectAlternativeNames([.. names.DnsNames], [.. names.EmailAddresses], [.. names.WellFormedIPAddresses()], [.. names.Uris]);
    }

    /// <summary>All entries as strings, in encoding order.</summary>
    public IEnumerable<string> All() =>
        DnsNames.Concat(EmailAddresses).Concat(IPAddresses.Select(ip => ip.ToString())).Concat(Uris);

    // Go's net.ParseIP: dotted-quad IPv4 or RFC 4291 IPv6 text, no zone, no shorthand forms like "127.1".
    // IPv4 and IPv4-mapped IPv6 are encoded as 4 bytes (ip.To4() != nil).
    private static bool TryParseGoIP(string text, out IPAddress ip)
    {
        ip = IPAddress.None;
        if (text.Contains('%', StringComparison.Ordinal))
        {
            return false;
        }

        if (text.Contains(':', StringComparison.Ordinal))
        {
            if (!Ipv6Chars().IsMatch(text) || !IPAddress.TryParse(text, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6)
            {
                return false;
            }

            ip = v6.IsIPv4MappedToIPv6 ? v6.MapToIPv4() : v6;
            return true;
        }

        if (!Ipv4().IsMatch(text) || !IPAddress.TryParse(text, out var v4))
        {
            return false;
        }

        ip = v4;
        return true;
    }

    // url.Parse succeeds with a non-empty scheme: a letter followed by letters, digits, + - . and then ':'.
    private static bool HasUrlScheme(string text) => UrlScheme().IsMatch(text) && !text.Any(char.IsControl);

    private static void RequireIa5(string san)
    {
        if (san.Any(c => c > 0x7F))
        {
            throw new PkiException($"invalid SAN '{san}': it cannot be encoded as an IA5String (use ASCII / punycode)");
        }
    }

    [GeneratedRegex(@"^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$")]
    private static partial Regex Ipv4();

    [GeneratedRegex(@"^[0-9A-Fa-f:.]+$")]
    private static partial Regex Ipv6Chars();

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9+.\-]*:")]
    private static partial Regex UrlScheme();
}
