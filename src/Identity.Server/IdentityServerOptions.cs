using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Identity.Pki.Time;
using Microsoft.Extensions.Options;

namespace Identity.Server;

/// <summary>
/// Settings of the identity server. The names mirror linkerd-identity's flags so the stock Helm chart's
/// arguments map one to one (see the <c>identity serve</c> command).
/// </summary>
public sealed class IdentityServerOptions
{
    /// <summary>The file scheme that selects <c>crt.pem</c>/<c>key.pem</c> (any other value selects <c>tls.crt</c>/<c>tls.key</c>).</summary>
    public const string LinkerdScheme = "linkerd.io/tls";

    /// <summary>gRPC listen address (<c>-addr</c>), Go style <c>[host]:port</c>. Default <c>:8080</c>.</summary>
    public string Addr { get; set; } = ":8080";

    /// <summary>Admin HTTP/1.1 listen address (<c>-admin-addr</c>). Default <c>:9990</c>.</summary>
    public string AdminAddr { get; set; } = ":9990";

    /// <summary>The control-plane namespace (<c>-controller-namespace</c>); a DNS-1123 label. Required.</summary>
    public string ControllerNamespace { get; set; } = "";

    /// <summary>The trust domain (<c>-identity-trust-domain</c>), e.g. <c>cluster.local</c>; a DNS-1123 subdomain. Required.</summary>
    public string TrustDomain { get; set; } = "";

    /// <summary>Issuer file scheme (<c>-identity-scheme</c>): <c>linkerd.io/tls</c> or e.g. <c>kubernetes.io/tls</c>. Required.</summary>
    public string IdentityScheme { get; set; } = LinkerdScheme;

    /// <summary>Leaf lifetime before the skew is added (<c>-identity-issuance-lifetime</c>). Default 24h.</summary>
    public TimeSpan IssuanceLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Back-dating of NotBefore and extension of NotAfter (<c>-identity-clock-skew-allowance</c>). Default 10s.</summary>
    public TimeSpan ClockSkewAllowance { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Directory holding the issuer certificate and key (<c>-issuer</c>). Default <c>/var/run/linkerd/identity/issuer</c>.</summary>
    public string IssuerDirectory { get; set; } = "/var/run/linkerd/identity/issuer";

    /// <summary>PEM bundle of trust anchors (<c>-identity-trust-anchors-file</c>). Default <c>/var/run/linkerd/identity/trust-roots/ca-bundle.crt</c>.</summary>
    public string TrustAnchorsFile { get; set; } = "/var/run/linkerd/identity/trust-roots/ca-bundle.crt";

    /// <summary>
    /// How often the issuer and anchors are re-read even without a file event, so a missed watcher event cannot
    /// leave a stale issuer (linkerd2#15109). Default 1 minute; must be between 1 second and 1 hour.
    /// </summary>
    public TimeSpan ReloadInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Watch the issuer and anchors directories for changes (in addition to the periodic re-read). Default true.</summary>
    public bool WatchFiles { get; set; } = true;

    /// <summary>Reject CSR keys on curves other than P-256 (Linkerd accepts any ECDSA curve). Default true.</summary>
    public bool RequireP256CsrKey { get; set; } = true;

    /// <summary>Reject CSRs signed with SHA-1. Default true.</summary>
    public bool RejectSha1Csr { get; set; } = true;

    /// <summary>How many parsed-and-verified CSRs are remembered (proxies resend the same CSR). Default 10,000; 0 disables.</summary>
    public int CsrCacheSize { get; set; } = 10_000;

    /// <summary>
    /// Most Certify calls in progress at once (<c>-max-concurrent-certify</c>); 0 means sized to the machine:
    /// 16 per core, enough to keep every core busy while some calls wait on a TokenReview. Default 0.
    /// </summary>
    public int MaxConcurrentCertify { get; set; }

    /// <summary>
    /// Most Certify calls waiting for a slot (<c>-certify-queue</c>); calls beyond it are refused at once with
    /// RESOURCE_EXHAUSTED. 0 means the default, 4096: deep enough to hold a restart burst that the server clears well
    /// within a proxy's deadline (calls that would not make theirs are refused on arrival anyway), and, at about
    /// 8 KiB of Kestrel and request state per waiting call, about 32 MiB at most. Default 0.
    /// </summary>
    public int CertifyQueue { get; set; }

    /// <summary>
    /// Most concurrent HTTP/2 streams per connection (<c>-max-concurrent-streams</c>). Default 100, Kestrel's own and
    /// what HTTP/2 clients assume before the server's SETTINGS arrive (a lower limit makes a multiplexing client's
    /// first flight fail). A proxy has one Certify in flight per connection; a client multiplexing more waits for a
    /// free stream on its side, where it costs this server no memory (an accepted stream holds about 8 KiB).
    /// </summary>
    public int MaxConcurrentStreams { get; set; } = 100;

    /// <summary>
    /// Most connections served at once on the gRPC port (<c>-max-connections</c>); 0 means unlimited. Default 512.
    /// Further connections wait (up to four per slot, for up to 10 s each) before any TLS or HTTP/2 state is made
    /// for them: a restarting fleet opens one per Certify, and about 30 KiB per served connection is what bounds
    /// memory here, not the calls.
    /// </summary>
    public int MaxConnections { get; set; } = 512;

    /// <summary><see cref="MaxConcurrentCertify"/> with the machine-sized default applied.</summary>
    public int EffectiveMaxConcurrentCertify => MaxConcurrentCertify > 0 ? MaxConcurrentCertify : 16 * Environment.ProcessorCount;

    /// <summary><see cref="CertifyQueue"/> with the machine-sized default applied.</summary>
    public int EffectiveCertifyQueue => CertifyQueue > 0 ? CertifyQueue : 4096;

    /// <summary>
    /// Serve gRPC over TLS 1.3 with a certificate the server issues to itself
    /// (<c>linkerd-identity.NS.serviceaccount.identity.NS.TD</c>) instead of plaintext h2c. Default false.
    /// </summary>
    public bool Tls { get; set; }

    /// <summary>The file names the scheme selects: certificate, key.</summary>
    public (string Certificate, string Key) IssuerFileNames =>
        IdentityScheme == LinkerdScheme ? ("crt.pem", "key.pem") : ("tls.crt", "tls.key");

    /// <summary>The identity the server itself uses when serving TLS.</summary>
    public string ServerIdentity =>
        $"linkerd-identity.{ControllerNamespace}.serviceaccount.identity.{ControllerNamespace}.{TrustDomain}";

    /// <summary>Parses a Go-style listen address (<c>:8080</c>, <c>0.0.0.0:8080</c>, <c>[::1]:0</c>, <c>localhost:9990</c>).</summary>
    public static bool TryParseListenAddress(string value, out IPAddress? address, out int port)
    {
        address = null;
        port = 0;
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }

        var colon = value.LastIndexOf(':');
        if (colon < 0 || !int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port)
            || port > 65535)
        {
            return false;
        }

        var host = value[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }

        if (host.Length == 0)
        {
            return true; // all interfaces, like Go
        }

        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            address = IPAddress.Loopback;
            return true;
        }

        return IPAddress.TryParse(host, out address);
    }
}

/// <summary>Validates <see cref="IdentityServerOptions"/> at start with one clear message per invalid setting.</summary>
internal sealed partial class IdentityServerOptionsValidator : IValidateOptions<IdentityServerOptions>
{
    public ValidateOptionsResult Validate(string? name, IdentityServerOptions options)
    {
        var errors = new List<string>();
        if (!IdentityServerOptions.TryParseListenAddress(options.Addr, out _, out _))
        {
            errors.Add($"-addr: '{options.Addr}' is not a listen address of the form [host]:port");
        }

        if (!IdentityServerOptions.TryParseListenAddress(options.AdminAddr, out _, out _))
        {
            errors.Add($"-admin-addr: '{options.AdminAddr}' is not a listen address of the form [host]:port");
        }

        if (!Dns1123.IsLabel(options.ControllerNamespace))
        {
            errors.Add($"-controller-namespace: '{options.ControllerNamespace}' must be a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters)");
        }

        if (!Dns1123.IsSubdomain(options.TrustDomain))
        {
            errors.Add($"-identity-trust-domain: '{options.TrustDomain}' must be a DNS-1123 subdomain (e.g. cluster.local)");
        }

        if (string.IsNullOrWhiteSpace(options.IdentityScheme))
        {
            errors.Add("-identity-scheme: must not be empty (use linkerd.io/tls or kubernetes.io/tls)");
        }

        if (options.IssuanceLifetime <= TimeSpan.Zero)
        {
            errors.Add($"-identity-issuance-lifetime: must be positive, got {GoDuration.Format(options.IssuanceLifetime)}");
        }

        if (options.ClockSkewAllowance < TimeSpan.Zero || options.ClockSkewAllowance > TimeSpan.FromHours(1))
        {
            errors.Add($"-identity-clock-skew-allowance: must be between 0s and 1h, got {GoDuration.Format(options.ClockSkewAllowance)}");
        }

        if (string.IsNullOrWhiteSpace(options.IssuerDirectory))
        {
            errors.Add("-issuer: the issuer directory must not be empty");
        }

        if (string.IsNullOrWhiteSpace(options.TrustAnchorsFile))
        {
            errors.Add("-identity-trust-anchors-file: the trust anchors file must not be empty");
        }

        if (options.ReloadInterval < TimeSpan.FromSeconds(1) || options.ReloadInterval > TimeSpan.FromHours(1))
        {
            errors.Add($"ReloadInterval: must be between 1s and 1h, got {GoDuration.Format(options.ReloadInterval)}");
        }

        if (options.MaxConcurrentCertify < 0)
        {
            errors.Add($"-max-concurrent-certify: must be positive, or 0 for the default (16 per core), got {options.MaxConcurrentCertify}");
        }

        if (options.CertifyQueue < 0)
        {
            errors.Add($"-certify-queue: must be positive, or 0 for the default (4096), got {options.CertifyQueue}");
        }

        if (options.MaxConcurrentStreams < 1)
        {
            errors.Add($"-max-concurrent-streams: must be positive, got {options.MaxConcurrentStreams}");
        }

        if (options.MaxConnections < 0)
        {
            errors.Add($"-max-connections: must be positive, or 0 for no limit, got {options.MaxConnections}");
        }

        if (options.CsrCacheSize < 0)
        {
            errors.Add($"CsrCacheSize: must not be negative, got {options.CsrCacheSize}");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>Kubernetes DNS-1123 name rules, as used for namespaces, ServiceAccount names and the trust domain.</summary>
public static partial class Dns1123
{
    /// <summary>A DNS-1123 label: <c>[a-z0-9]([-a-z0-9]*[a-z0-9])?</c>, at most 63 characters.</summary>
    public static bool IsLabel(string? value) => value is { Length: > 0 and <= 63 } && LabelRegex().IsMatch(value);

    /// <summary>A DNS-1123 subdomain: dot-separated labels, at most 253 characters.</summary>
    public static bool IsSubdomain(string? value) => value is { Length: > 0 and <= 253 } && SubdomainRegex().IsMatch(value);

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex LabelRegex();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", RegexOptions.CultureInvariant)]
    private static partial Regex SubdomainRegex();
}
