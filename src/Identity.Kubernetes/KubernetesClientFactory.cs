using System.Threading.RateLimiting;
using Identity.Kubernetes.Cluster;
using k8s;
using k8s.Exceptions;

namespace Identity.Kubernetes;

/// <summary>
/// The one place that builds Kubernetes API clients: for the server (kubeconfig or in-cluster, with the
/// client-side QPS/burst budget) and for the CLI (a kubeconfig context chosen as kubectl chooses it).
/// </summary>
public static class KubernetesClientFactory
{
    /// <summary>
    /// Loads <paramref name="kubeconfig"/> (or the in-cluster configuration when it is null or empty) and returns
    /// a client whose requests pass a token bucket of <paramref name="qps"/> refilling a bucket of
    /// <paramref name="burst"/>, like client-go's flowcontrol limiter.
    /// </summary>
    /// <exception cref="InvalidOperationException">The configuration cannot be loaded; the message says which one and why.</exception>
    public static IKubernetes Create(string? kubeconfig, double qps, int burst)
    {
        KubernetesClientConfiguration configuration;
        try
        {
            configuration = string.IsNullOrEmpty(kubeconfig)
                ? KubernetesClientConfiguration.InClusterConfig()
                : KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig);
        }
        catch (Exception e) when (e is KubeConfigException or IOException or UnauthorizedAccessException or YamlDotNet.Core.YamlException)
        {
            var which = string.IsNullOrEmpty(kubeconfig) ? "the in-cluster configuration" : $"kubeconfig '{kubeconfig}'";
            throw new InvalidOperationException($"Unable to load Kubernetes client configuration from {which}: {e.Message}", e);
        }

        return Create(configuration, qps, burst);
    }

    /// <summary>Returns a rate-limited client for an already built <paramref name="configuration"/>.</summary>
    public static IKubernetes Create(KubernetesClientConfiguration configuration, double qps, int burst)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(qps);
        ArgumentOutOfRangeException.ThrowIfLessThan(burst, 1);
        return new k8s.Kubernetes(configuration, new RateLimitingHandler(qps, burst));
    }

    /// <summary>
    /// Creates a client for <paramref name="context"/> (the current context when null), as kubectl does. The
    /// kubeconfig is <paramref name="kubeconfigPath"/>, else the files listed in <c>KUBECONFIG</c>, else
    /// <c>~/.kube/config</c>. No client-side rate limit: this is for one-shot CLI reads.
    /// </summary>
    /// <exception cref="ClusterReadException">The kubeconfig or the context cannot be used.</exception>
    public static IKubernetes CreateForContext(string? kubeconfigPath, string? context)
    {
        try
        {
            var files = ResolveKubeconfigFiles(kubeconfigPath);
            var missing = files.FirstOrDefault(f => !f.Exists);
            if (missing is not null)
            {
                throw new ClusterReadException($"kubeconfig file '{missing.FullName}' does not exist");
            }

            // KUBECONFIG may list several files; like kubectl, the first file that defines the context wins.
            var configs = files.Select(f => KubernetesClientConfiguration.LoadKubeConfig(f, useRelativePaths: true)).ToList();
            var config = context is null
                ? configs[0]
                : configs.FirstOrDefault(c => c.Contexts?.Any(x => x.Name == context) == true);
            if (config is null)
            {
                throw new ClusterReadException(
                    $"context '{context}' does not exist in kubeconfig {string.Join(", ", files.Select(f => f.FullName))}");
            }

            return new k8s.Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigObject(config, context));
        }
        catch (KubeConfigException ex)
        {
            throw new ClusterReadException($"cannot use kubeconfig context '{context ?? "(current)"}': {ex.Message}", ex);
        }
        catch (YamlDotNet.Core.YamlException ex)
        {
            throw new ClusterReadException($"kubeconfig is not valid YAML: {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ClusterReadException($"cannot read kubeconfig: {ex.Message}", ex);
        }
    }

    private static FileInfo[] ResolveKubeconfigFiles(string? kubeconfigPath)
    {
        if (!string.IsNullOrEmpty(kubeconfigPath))
        {
            return [new FileInfo(kubeconfigPath)];
        }

        var env = Environment.GetEnvironmentVariable("KUBECONFIG");
        if (!string.IsNullOrEmpty(env))
        {
            return env.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Select(p => new FileInfo(p)).ToArray();
        }

        return [new FileInfo(KubernetesClientConfiguration.KubeConfigDefaultLocation)];
    }

    /// <summary>
    /// Delays requests beyond the budget instead of failing them, as client-go does; a wait ends with the
    /// request's cancellation (the review timeout), which the caller reports as unavailable.
    /// </summary>
    private sealed class RateLimitingHandler : DelegatingHandler
    {
        private readonly TokenBucketRateLimiter _limiter;

        public RateLimitingHandler(double qps, int burst)
        {
            // One token per 1/qps keeps fractional rates (e.g. 2.5/s) exact; the timer floor is 1 ms.
            var period = TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerMillisecond, (long)(TimeSpan.TicksPerSecond / qps)));
            _limiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
            {
                TokenLimit = burst,
                TokensPerPeriod = 1,
                ReplenishmentPeriod = period,
                AutoReplenishment = true,
                QueueLimit = int.MaxValue,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            });
        }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            RateLimitLease lease;
            try
            {
                lease = await _limiter.AcquireAsync(1, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException e)
            {
                // Say where the time went: an opaque timeout while throttled is what linkerd2#11644 users saw.
                throw new ClientRateLimitedException(e, cancellationToken);
            }

            using var acquired = lease;
            if (!acquired.IsAcquired)
            {
                throw new HttpRequestException("client rate limiter refused the request");
            }

            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _limiter.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}

/// <summary>A request was cancelled (usually by its timeout) while waiting for the client-side QPS budget.</summary>
public sealed class ClientRateLimitedException : OperationCanceledException
{
    /// <summary>Creates the exception.</summary>
    public ClientRateLimitedException()
        : base("the request was cancelled while waiting for the client rate limiter")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public ClientRateLimitedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and cause.</summary>
    public ClientRateLimitedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal ClientRateLimitedException(Exception innerException, CancellationToken token)
        : base("the request was cancelled while waiting for the client rate limiter", innerException, token)
    {
    }
}
