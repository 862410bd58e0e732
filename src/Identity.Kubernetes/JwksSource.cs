namespace Identity.Kubernetes;

/// <summary>Where JWKS keys come from: a local file, a JWKS URL, or an OIDC discovery document.</summary>
/// <param name="FilePath">Set for a file source.</param>
/// <param name="Uri">Set for a URL source.</param>
/// <param name="IsDiscovery">Whether <paramref name="Uri"/> is an OIDC discovery document naming <c>jwks_uri</c>.</param>
public sealed record JwksSource(string? FilePath, Uri? Uri, bool IsDiscovery)
{
    private const string DiscoverySuffix = "/.well-known/openid-configuration";

    /// <summary>Interprets the <c>-jwks</c> value; empty means discovery under <paramref name="issuer"/>.</summary>
    /// <exception cref="ArgumentException">The value is not a usable source.</exception>
    public static JwksSource Parse(string? value, string? issuer)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            if (string.IsNullOrWhiteSpace(issuer))
            {
                throw new ArgumentException("jwks: no JWKS source given and no token-issuer to discover it from");
            }

            value = issuer.TrimEnd('/') + DiscoverySuffix;
        }

        if (value.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            if (!Uri.TryCreate(value, UriKind.Absolute, out var uri))
            {
                throw new ArgumentException($"jwks: '{value}' is not a valid URL");
            }

            if (uri.Scheme == Uri.UriSchemeHttp && !uri.IsLoopback)
            {
                throw new ArgumentException($"jwks: '{value}' must use https (plain http is only allowed for loopback hosts)");
            }

            return new JwksSource(null, uri, uri.AbsolutePath.EndsWith(DiscoverySuffix, StringComparison.Ordinal));
        }

        if (value.Contains("://", StringComparison.Ordinal))
        {
            throw new ArgumentException($"jwks: '{value}' has an unsupported scheme (use a file path or an https URL)");
        }

        return new JwksSource(Path.GetFullPath(value), null, false);
    }

    /// <inheritdoc/>
    public override string ToString() => FilePath ?? Uri!.ToString();
}
