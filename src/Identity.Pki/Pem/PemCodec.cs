using System.Text;

namespace Identity.Pki.Pem;

/// <summary>
/// PEM reading and writing including RFC 1421 headers (<c>Proc-Type</c>, <c>DEK-Info</c>), which the BCL's
/// <see cref="System.Security.Cryptography.PemEncoding"/> does not support. Output matches Go's
/// <c>pem.EncodeToMemory</c>: 64-character lines, <c>\n</c> line ends.
/// </summary>
public static class PemCodec
{
    private const string BeginPrefix = "-----BEGIN ";
    private const string EndPrefix = "-----END ";
    private const string Dashes = "-----";

    /// <summary>Whether the data looks like PEM (contains a BEGIN line) rather than DER.</summary>
    public static bool LooksLikePem(ReadOnlySpan<byte> data) =>
        data.IndexOf(Encoding.ASCII.GetBytes(BeginPrefix)) >= 0;

    /// <summary>Parses every PEM block in <paramref name="text"/>; text outside blocks is ignored.</summary>
    /// <exception cref="PkiException">A block is malformed (no END line, bad base64, bad header).</exception>
    public static IReadOnlyList<PemBlock> Decode(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        var blocks = new List<PemBlock>();
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (!line.StartsWith(BeginPrefix, StringComparison.Ordinal) || !line.EndsWith(Dashes, StringComparison.Ordinal) ||
                line.Length < BeginPrefix.Length + Dashes.Length)
            {
                continue;
            }

            var label = line[BeginPrefix.Length..^Dashes.Length];
            var end = EndPrefix + label + Dashes;
            var headers = new List<KeyValuePair<string, string>>();
            var body = new StringBuilder();
            var j = i + 1;
            var inHeaders = true;
            var closed = false;
            for (; j < lines.Length; j++)
            {
                var current = lines[j].Trim();
                if (current == end)
                {
                    closed = true;
                    break;
                }

                if (inHeaders)
                {
                    var colon = current.IndexOf(':', StringComparison.Ordinal);
                    if (colon > 0)
                    {
                        headers.Add(new(current[..colon].Trim(), current[(colon + 1)..].Trim()));
                        continue;
                    }

                    inHeaders = false;
                    if (current.Length == 0)
                    {
                        continue;
                    }
                }

                body.Append(current);
            }

            if (!closed)
            {
                throw new PkiException($"error decoding {source}: PEM block '{label}' has no END line");
            }

            byte[] der;
            try
            {
                der = Convert.FromBase64String(body.ToString());
            }
            catch (FormatException e)
            {
                throw new PkiException($"error decoding {source}: PEM block '{label}' is not valid base64", e);
            }

            if (der.Length == 0)
            {
                throw new PkiException($"error decoding {source}: PEM block '{label}' is empty");
            }

            blocks.Add(new PemBlock(label, headers, der));
            i = j;
        }

        return blocks;
    }

    /// <summary>Encodes one block the way Go's <c>pem.EncodeToMemory</c> does.</summary>
    public static string Encode(PemBlock block)
    {
        ArgumentNullException.ThrowIfNull(block);
        var sb = new StringBuilder();
        sb.Append(BeginPrefix).Append(block.Label).Append(Dashes).Append('\n');
        if (block.Headers.Count > 0)
        {
            foreach (var (key, value) in block.Headers)
            {
                sb.Append(key).Append(": ").Append(value).Append('\n');
            }

            sb.Append('\n');
        }

        var base64 = Convert.ToBase64String(block.Der);
        for (var i = 0; i < base64.Length; i += 64)
        {
            sb.Append(base64.AsSpan(i, Math.Min(64, base64.Length - i))).Append('\n');
        }

        sb.Append(EndPrefix).Append(block.Label).Append(Dashes).Append('\n');
        return sb.ToString();
    }

    /// <summary>Encodes a block without headers.</summary>
    public static string Encode(string label, byte[] der) => Encode(new PemBlock(label, der));
}
