using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Options;

namespace Identity.Client;

/// <summary>
/// Settings of the proxy-side identity client. Each property mirrors one of the proxy's
/// <c>LINKERD2_PROXY_IDENTITY_*</c> environment variables or renewal constants; defaults are documented per property.
/// </summary>
public sealed class IdentityClientOptions
{
    /// <summary>
    /// The identity service address. <c>http://</c> means HTTP/2 without TLS (h2c, as a loopback control-plane
    /// proxy uses); <c>https://</c> means TLS 1.3 whose server certificate must chain to <see cref="TrustAnchorsPem"/>
    /// and carry <see cref="ServerIdentity"/> as a DNS SAN. Required; no default.
    /// </summary>
    public Uri? Address { get; set; }

    /// <summary>The workload identity to request, e.g. <c>default.default.serviceaccount.identity.linkerd.cluster.local</c>. Required.</summary>
    public string LocalIdentity { get; set; } = string.Empty;

    /// <summary>
    /// The identity the identity service must present (its DNS SAN, also sent as SNI), e.g.
    /// <c>linkerd-identity.linkerd.serviceaccount.identity.linkerd.cluster.local</c>. Required when <see cref="Address"/> is https.
    /// </summary>
    public string? ServerIdentity { get; set; }

    /// <summary>
    /// The ServiceAccount token file, re-read before every call because projected tokens rotate.
    /// Default: <c>/var/run/secrets/tokens/linkerd-identity-token</c> (the chart's projected token path).
    /// </summary>
    public string TokenFile { get; set; } = "/var/run/secrets/tokens/linkerd-identity-token";

    /// <summary>The trust anchors as a PEM bundle (one or more CERTIFICATE blocks). Required; the system store is never used.</summary>
    public string TrustAnchorsPem { get; set; } = string.Empty;

    /// <summary>Deadline of one Certify call. Default: 10 seconds.</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Fraction of the remaining lifetime after which a certificate is renewed. Default: 0.7 (as the proxy does).</summary>
    public double RefreshFraction { get; set; } = 0.7;

    /// <summary>Lower bound of the delay before a renewal after a success. Default: 10 seconds (the proxy's <c>MIN_REFRESH</c>).</summary>
    public TimeSpan MinRefresh { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Upper bound of the delay before a renewal after a success. Default: 24 hours (the proxy's <c>MAX_REFRESH</c>).</summary>
    public TimeSpan MaxRefresh { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Backoff ceiling of the first retry after a failure. Default: 1 second.</summary>
    public TimeSpan InitialRetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Factor by which the backoff ceiling grows after each consecutive failure. Default: 2.</summary>
    public double RetryBackoffMultiplier { get; set; } = 2.0;

    /// <summary>Largest backoff ceiling. Default: 60 seconds.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>A copy, so later changes to the caller's instance cannot change a running client.</summary>
    internal IdentityClientOptions Clone() => (IdentityClientOptions)MemberwiseClone();
}

/// <summary>Validates <see cref="IdentityClientOptions"/>; registered with ValidateOnStart by <c>AddIdentityClient</c>.</summary>
public sealed class IdentityClientOptionsValidator : IValidateOptions<IdentityClientOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, IdentityClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();

        if (options.Address is null)
        {
            errors.Add("IdentityClientOptions.Address is required (http:// for h2c, https:// for TLS).");
        }
        else if (!options.Address.IsAbsoluteUri || (options.Address.Scheme != Uri.UriSchemeHttp && options.Address.Scheme != Uri.UriSchemeHttps))
        {
            errors.Add($"IdentityClientOptions.Address '{options.Address}' must be an absolute http:// or https:// URI.");
        }
        else if (options.Address.Scheme == Uri.UriSchemeHttps && !DnsNames.IsValid(options.ServerIdentity))
        {
            errors.Add("IdentityClientOptions.ServerIdentity must be a DNS name when Address is https:// (the identity service's certificate is checked against it).");
        }

        if (!DnsNames.IsValid(options.LocalIdentity))
        {
            errors.Add($"IdentityClientOptions.LocalIdentity '{options.LocalIdentity}' must be a DNS name such as sa.ns.serviceaccount.identity.linkerd.cluster.local.");
        }

        if (string.IsNullOrWhiteSpace(options.TokenFile))
        {
            errors.Add("IdentityClientOptions.TokenFile is required.");
        }

        if (string.IsNullOrWhiteSpace(options.TrustAnchorsPem))
        {
            errors.Add("IdentityClientOptions.TrustAnchorsPem is required (a PEM bundle of the trust anchors).");
        }
        else
        {
            try
            {
                using var anchors = TrustAnchorBundle.Parse(options.TrustAnchorsPem);
            }
            catch (FormatException ex)
            {
                errors.Add("IdentityClientOptions.TrustAnchorsPem: " + ex.Message);
            }
        }

        Positive(errors, nameof(options.CallTimeout), options.CallTimeout);
        Positive(errors, nameof(options.MinRefresh), options.MinRefresh);
        Positive(errors, nameof(options.MaxRefresh), options.MaxRefresh);
        Positive(errors, nameof(options.InitialRetryDelay), options.InitialRetryDelay);
        Positive(errors, nameof(options.MaxRetryDelay), options.MaxRetryDelay);
        if (options.MinRefresh > options.MaxRefresh)
        {
            errors.Add($"IdentityClientOptions.MinRefresh ({options.MinRefresh}) must not exceed MaxRefresh ({options.MaxRefresh}).");
        }

        if (options.InitialRetryDelay > options.MaxRetryDelay)
        {
            errors.Add($"IdentityClientOptions.InitialRetryDelay ({options.InitialRetryDelay}) must not exceed MaxRetryDelay ({options.MaxRetryDelay}).");
        }

        if (!(options.RefreshFraction > 0 && options.RefreshFraction < 1))
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"IdentityClientOptions.RefreshFraction ({options.RefreshFraction}) must be between 0 and 1 exclusive."));
        }

        if (!(options.RetryBackoffMultiplier >= 1 && options.RetryBackoffMultiplier <= 100))
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"IdentityClientOptions.RetryBackoffMultiplier ({options.RetryBackoffMultiplier}) must be between 1 and 100."));
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Positive(List<string> errors, string name, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add($"IdentityClientOptions.{name} ({value}) must be positive.");
        }
    }
}

/// <summary>A DNS name check strict enough to refuse obvious mistakes (empty, spaces, schemes, trailing dots).</summary>
internal static class DnsNames
{
    public static bool IsValid(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 253)
        {
            return false;
        }

        foreach (var label in name.Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-')
            {
                return false;
            }

            foreach (var c in label)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c == '-'))
                {
                    return false;
                }
            }
        }

        return true;
    }
}

/// <summary>Parses a PEM bundle of trust anchors; owns the parsed certificates.</summary>
internal sealed class TrustAnchorBundle : IDisposable
{
    private TrustAnchorBundle(X509Certificate2Collection certificates) => Certificates = certificates;

    public X509Certificate2Collection Certificates { get; }

    public static TrustAnchorBundle Parse(string pem)
    {
        var collection = new X509Certificate2Collection();
        try
        {
            collection.ImportFromPem(pem);
        }
        catch (System.Security.Cryptography.CryptographicException ex)
        {
            throw new FormatException("the trust anchors PEM could not be parsed: " + ex.Message, ex);
        }

        if (collection.Count == 0)
        {
            throw new FormatException("the trust anchors PEM contains no CERTIFICATE block.");
        }

        return new TrustAnchorBundle(collection);
    }

    public void Dispose()
    {
        foreach (var c in Certificates)
        {
            c.Dispose();
        }
    }
}
