using Identity.Server;
using Microsoft.Extensions.Logging;

namespace Identity.Cli.Serve;

/// <summary>The Kubernetes API client flags, passed on to whoever registers the Kubernetes token validator.</summary>
/// <param name="Kubeconfig">Path to a kubeconfig (<c>-kubeconfig</c>); empty means in-cluster.</param>
/// <param name="Qps">Client QPS (<c>-kube-apiclient-qps</c>, default 100).</param>
/// <param name="Burst">Client burst (<c>-kube-apiclient-burst</c>, default 200).</param>
public sealed record KubeApiClientSettings(string Kubeconfig, float Qps, int Burst);

/// <summary>Everything <c>identity serve</c> parsed from its flags.</summary>
public sealed record ServeSettings(
    IdentityServerOptions Server,
    KubeApiClientSettings Kube,
    LogLevel LogLevel,
    bool JsonLogs);
