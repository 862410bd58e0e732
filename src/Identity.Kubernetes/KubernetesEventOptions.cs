using Microsoft.Extensions.Options;

namespace Identity.Kubernetes;

/// <summary>Settings for posting linkerd-identity's Kubernetes events; validated at start.</summary>
public sealed class KubernetesEventOptions
{
    /// <summary>Where the pod's own namespace is mounted in a cluster.</summary>
    public const string ServiceAccountNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

    /// <summary>Namespace of the Deployment the issuer events are attached to (<c>-controller-namespace</c>).
    /// Default <c>null</c>: the pod's namespace from <see cref="ServiceAccountNamespaceFile"/>, else <c>linkerd</c>.</summary>
    public string? Namespace { get; set; }

    /// <summary>Name of the Deployment issuer events are attached to. Default <c>linkerd-identity</c>.</summary>
    public string DeploymentName { get; set; } = "linkerd-identity";

    /// <summary>The event source component. Default <c>linkerd-identity</c>, as Linkerd's runbooks expect.</summary>
    public string Component { get; set; } = "linkerd-identity";

    /// <summary>Events waiting to be posted; further events are dropped (and counted) rather than block issuance.
    /// Default 256.</summary>
    public int QueueCapacity { get; set; } = 256;

    /// <summary>Longest one event post may take. Default 10 seconds.</summary>
    public TimeSpan PostTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Path of a kubeconfig file. Default <c>null</c>: the in-cluster configuration.</summary>
    public string? Kubeconfig { get; set; }

    /// <summary>Client-side request rate for event posts (requests/s). Default 5: events are rare, and a separate
    /// budget keeps them from ever competing with TokenReviews.</summary>
    public double Qps { get; set; } = 5;

    /// <summary>Event posts allowed above <see cref="Qps"/> in a burst. Default 10.</summary>
    public int Burst { get; set; } = 10;

    internal string ResolveNamespace()
    {
        if (!string.IsNullOrWhiteSpace(Namespace))
        {
            return Namespace;
        }

        try
        {
            var fromPod = File.ReadAllText(ServiceAccountNamespaceFile).Trim();
            return fromPod.Length > 0 ? fromPod : "linkerd";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "linkerd";
        }
    }
}

internal sealed class KubernetesEventOptionsValidator : IValidateOptions<KubernetesEventOptions>
{
    public ValidateOptionsResult Validate(string? name, KubernetesEventOptions options)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.DeploymentName))
        {
            errors.Add("events: DeploymentName must not be empty");
        }

        if (string.IsNullOrWhiteSpace(options.Component))
        {
            errors.Add("events: Component must not be empty");
        }

        if (options.QueueCapacity < 1)
        {
            errors.Add($"events: QueueCapacity must be at least 1, got {options.QueueCapacity}");
        }

        if (options.PostTimeout <= TimeSpan.Zero)
        {
            errors.Add($"events: PostTimeout must be positive, got {options.PostTimeout}");
        }

        if (!(options.Qps > 0) || double.IsInfinity(options.Qps) || options.Burst < 1)
        {
            errors.Add($"events: Qps must be positive and Burst at least 1, got {options.Qps}/{options.Burst}");
        }

        if (options.Kubeconfig is { Length: > 0 } kubeconfig && !File.Exists(kubeconfig))
        {
            errors.Add($"events: kubeconfig file '{kubeconfig}' does not exist");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
