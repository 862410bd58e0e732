namespace Identity.Pki.Pem;

/// <summary>One PEM block: its label (e.g. <c>CERTIFICATE</c>), RFC 1421 headers, and DER body.</summary>
public sealed record PemBlock(string Label, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[] Der)
{
    public PemBlock(string label, byte[] der)
        : this(label, [], der)
    {
    }

    /// <summary>The value of the first header named <paramref name="name"/>, or null.</summary>
    public string? Header(string name)
    {
        foreach (var pair in Headers)
        {
            if (string.Equals(pair.Key, name, StringComparison.OrdinalIgnoreCase))
            {
                return pair.Value;
            }
        }

        return null;
    }
}
