using Identity.Server;
using Microsoft.Extensions.Logging;

namespace Identity.Cli.Serve;

/// <summary>The Kubernetes API client flags, passed on to whoever registers the Kubernetes token validator.</summary>
/// <param name="Kubeconfig">Path to a kubeconfig (<c>-kubeconfig</c>); empty means in-cluster.</param>
/// <param name="Qps">Client QPS (<c>-kube-apiclient-qps</c>, default 100).</param>
/// <param name="Burst">Client burst (<c>-kube-apiclient-burst</c>, default 200).</param>
public sealed record KubeApiClientSettings(string Kubeconfig, float Qps, int Burst);

/// <summary>How tokens are validated (<c>-token-validation</c> and its companions).</summary>
/// <param name="Mode"><c>kubernetes</c> (TokenReview, the default, as linkerd-identity) or <c>jwks</c>.</param>
/// <param name="Jwks">With jwks: a JWKS file or URL, or the cluster's OIDC issuer URL (<c>-jwks</c>).</param>
/// <param name="TokenIssuer">With jwks: the required <c>iss</c> claim (<c>-token-issuer</c>).</param>
/// <param name="CacheTtl">Longest time a positive review is reused (<c>-token-review-cache-ttl</c>, default 5m).</param>
public sealed record TokenSettings(string Mode, string Jwks, string TokenIssuer, TimeSpan CacheTtl);

/// <summary>Everything <c>identity serve</c> parsed from its flags.</summary>
public sealed record ServeSettings(
    IdentityServerOptions Server,
    KubeApiClientSettings Kube,
    LogLevel LogLevel,
    bool JsonLogs)
{
    /// <summary>Token validation flags; Linkerd's behaviour (TokenReview) unless told otherwise.</summary>
    public TokenSettings Tokens { get; init; } = new("kubernetes", "", "", TimeSpan.FromMinutes(5));
}
