using Microsoft.Extensions.Options;

namespace Identity.Kubernetes;

/// <summary>
/// Settings for judging proxy tokens. Bound from the <c>-token-validation</c>, <c>-kubeconfig</c>,
/// <c>-kube-apiclient-qps/burst</c>, <c>-jwks</c> and <c>-token-issuer</c> flags; validated at start.
/// </summary>
public sealed class TokenValidationOptions
{
    /// <summary>The audience Linkerd proxies request for their projected token.</summary>
    public const string LinkerdAudience = "identity.l5d.io";

    /// <summary>Which validator to use. Default <see cref="TokenValidationMode.Kubernetes"/> (TokenReview).</summary>
    public TokenValidationMode Mode { get; set; } = TokenValidationMode.Kubernetes;

    /// <summary>Path of a kubeconfig file. Default <c>null</c>: the in-cluster ServiceAccount configuration.</summary>
    public string? Kubeconfig { get; set; }

    /// <summary>Client-side request rate to the API server (requests/s). Default 100, Linkerd's chart value
    /// (client-go's 5 throttled TokenReviews during scale-ups, linkerd2#11644).</summary>
    public double Qps { get; set; } = 100;

    /// <summary>Requests allowed above <see cref="Qps"/> in a burst. Default 200.</summary>
    public int Burst { get; set; } = 200;

    /// <summary>Most TokenReviews in flight at once; further callers wait (bounded by their cancellation).
    /// Default 64.</summary>
    public int MaxConcurrentReviews { get; set; } = 64;

    /// <summary>Longest a single TokenReview call may take before the token is reported unverifiable.
    /// Default 10 seconds (a proxy retries Certify on its own).</summary>
    public TimeSpan ReviewTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Upper bound on how long a positive result is reused; the token's own <c>exp</c> bounds it further.
    /// Default 5 minutes. <see cref="TimeSpan.Zero"/> disables the cache.</summary>
    public TimeSpan CacheTtl { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Most cached positive results. Default 10,000 (one per proxy in a large mesh).</summary>
    public int CacheSize { get; set; } = 10_000;

    /// <summary>
    /// JWKS source for <see cref="TokenValidationMode.Jwks"/>: a file path, an <c>https://</c> URL of a JWKS
    /// document, or an <c>https://</c> URL ending in <c>/.well-known/openid-configuration</c> (discovery).
    /// Default <c>null</c>: discovery at <c><see cref="TokenIssuer"/>/.well-known/openid-configuration</c>.
    /// Plain <c>http://</c> is accepted only for loopback hosts (local demos).
    /// </summary>
    public string? Jwks { get; set; }

    /// <summary>PEM file of CA certificates trusted for HTTPS JWKS/discovery fetches, in addition to the system
    /// store (in a cluster: <c>/var/run/secrets/kubernetes.io/serviceaccount/ca.crt</c>). Default <c>null</c>.</summary>
    public string? JwksCaFile { get; set; }

    /// <summary>File holding a bearer token sent with JWKS/discovery fetches (the API server's discovery
    /// endpoints usually require a ServiceAccount token). Re-read on each fetch. Default <c>null</c>.</summary>
    public string? JwksBearerTokenFile { get; set; }

    /// <summary>The required <c>iss</c> claim (<c>-token-issuer</c>), e.g. <c>https://kubernetes.default.svc.cluster.local</c>.
    /// Required in <see cref="TokenValidationMode.Jwks"/> mode. Default <c>null</c>.</summary>
    public string? TokenIssuer { get; set; }

    /// <summary>
    /// Extra audiences accepted besides <see cref="LinkerdAudience"/> in JWKS mode, normally the API server's
    /// default audience (its <c>--api-audiences</c>, usually equal to the issuer). This mirrors Linkerd's
    /// TokenReview fallback, which re-reviews with the API server's default audiences when the first review fails
    /// on audience; leaving it empty is stricter and enforces audience binding. Default empty.
    /// </summary>
    public IList<string> FallbackAudiences { get; } = [];

    /// <summary>Clock skew tolerated on <c>exp</c>/<c>nbf</c> in JWKS mode. Default 30 seconds.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often JWKS keys are re-fetched in the background of validations. Default 5 minutes.</summary>
    public TimeSpan JwksRefreshInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Least time between two fetches triggered by an unknown <c>kid</c>, so forged kids cannot make
    /// us hammer the issuer. Default 30 seconds.</summary>
    public TimeSpan JwksMinRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest a JWKS/discovery fetch may take. Default 10 seconds.</summary>
    public TimeSpan JwksFetchTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Whether startup checks RBAC with a SelfSubjectAccessReview (kubernetes mode). Default <c>true</c>.</summary>
    public bool CheckAccessOnStart { get; set; } = true;
}

/// <summary>Start-time validation of <see cref="TokenValidationOptions"/> with messages naming the flag at fault.</summary>
internal sealed class TokenValidationOptionsValidator : IValidateOptions<TokenValidationOptions>
{
    public ValidateOptionsResult Validate(string? name, TokenValidationOptions options)
    {
        var errors = new List<string>();
        if (!Enum.IsDefined(options.Mode))
        {
            errors.Add($"token validation mode '{options.Mode}' is not one of kubernetes, jwks");
        }

        if (!(options.Qps > 0) || double.IsInfinity(options.Qps))
        {
            errors.Add($"kube-apiclient-qps must be a positive number, got {options.Qps}");
        }

        if (options.Burst < 1)
        {
            errors.Add($"kube-apiclient-burst must be at least 1, got {options.Burst}");
        }

        if (options.MaxConcurrentReviews < 1)
        {
            errors.Add($"MaxConcurrentReviews must be at least 1, got {options.MaxConcurrentReviews}");
        }

        if (options.ReviewTimeout <= TimeSpan.Zero)
        {
            errors.Add($"ReviewTimeout must be positive, got {options.ReviewTimeout}");
        }

        if (options.CacheTtl < TimeSpan.Zero)
        {
            errors.Add($"CacheTtl must not be negative, got {options.CacheTtl}");
        }

        if (options.CacheSize < 1)
        {
            errors.Add($"CacheSize must be at least 1, got {options.CacheSize}");
        }

        if (options.Kubeconfig is { Length: > 0 } kubeconfig && options.Mode == TokenValidationMode.Kubernetes && !File.Exists(kubeconfig))
        {
            errors.Add($"kubeconfig file '{kubeconfig}' does not exist");
        }

        if (options.Mode == TokenValidationMode.Jwks)
        {
            ValidateJwks(options, errors);
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void ValidateJwks(TokenValidationOptions options, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(options.TokenIssuer))
        {
            errors.Add("token-issuer is required with -token-validation jwks");
        }

        try
        {
            var source = JwksSource.Parse(options.Jwks, options.TokenIssuer);
            if (source.FilePath is { } file && !File.Exists(file))
            {
                errors.Add($"jwks file '{file}' does not exist");
            }
        }
        catch (ArgumentException e)
        {
            errors.Add(e.Message);
        }

        if (options.JwksCaFile is { Length: > 0 } ca && !File.Exists(ca))
        {
            errors.Add($"JWKS CA file '{ca}' does not exist");
        }

        if (options.ClockSkew < TimeSpan.Zero || options.ClockSkew > TimeSpan.FromMinutes(10))
        {
            errors.Add($"ClockSkew must be between 0 and 10 minutes, got {options.ClockSkew}");
        }

        if (options.JwksRefreshInterval <= TimeSpan.Zero || options.JwksMinRefreshInterval < TimeSpan.Zero)
        {
            errors.Add("JwksRefreshInterval must be positive and JwksMinRefreshInterval not negative");
        }

        if (options.JwksFetchTimeout <= TimeSpan.Zero)
        {
            errors.Add($"JwksFetchTimeout must be positive, got {options.JwksFetchTimeout}");
        }

        foreach (var audience in options.FallbackAudiences)
        {
            if (string.IsNullOrWhiteSpace(audience))
            {
                errors.Add("FallbackAudiences must not contain empty values");
            }
        }
    }
}
