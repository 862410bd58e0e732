using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Identity.Kubernetes;

/// <summary>The startup RBAC self-check linkerd-identity performs before serving.</summary>
public static class KubernetesAccessCheck
{
    /// <summary>
    /// Asks the API server (SelfSubjectAccessReview) whether this identity may <c>create</c>
    /// <c>tokenreviews.authentication.k8s.io/v1</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException"><c>Unable to create kubernetes token reviews: …</c> when it may not,
    /// or when the question itself cannot be answered.</exception>
    public static async Task EnsureCanCreateTokenReviewsAsync(IKubernetes client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        var review = new V1SelfSubjectAccessReview
        {
            ApiVersion = "authorization.k8s.io/v1",
            Kind = "SelfSubjectAccessReview",
            Metadata = new V1ObjectMeta(),
            Spec = new V1SelfSubjectAccessReviewSpec
            {
                ResourceAttributes = new V1ResourceAttributes
                {
                    Verb = "create",
                    Group = "authentication.k8s.io",
                    Version = "v1",
                    Resource = "tokenreviews",
                },
            },
        };

        V1SelfSubjectAccessReview result;
        try
        {
            result = await client.AuthorizationV1.CreateSelfSubjectAccessReviewAsync(review, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e)
        {
            throw Failure($"SelfSubjectAccessReview failed: HTTP {(int?)e.Response?.StatusCode} {e.Response?.StatusCode}", e);
        }
        catch (HttpRequestException e)
        {
            throw Failure($"SelfSubjectAccessReview failed: {e.Message}", e);
        }

        if (result?.Status?.Allowed != true)
        {
            var reason = result?.Status?.Reason;
            var evaluationError = result?.Status?.EvaluationError;
            var detail = string.Join("; ", new[] { reason, evaluationError }.Where(s => !string.IsNullOrWhiteSpace(s)));
            throw Failure(detail.Length == 0
                ? "not authorized to create tokenreviews.authentication.k8s.io"
                : $"not authorized to create tokenreviews.authentication.k8s.io: {detail}", null);
        }
    }

    private static InvalidOperationException Failure(string detail, Exception? inner) =>
        new($"Unable to create kubernetes token reviews: {detail}", inner);
}

/// <summary>Runs <see cref="KubernetesAccessCheck"/> when the host starts, failing the start when access is missing.</summary>
internal sealed class TokenReviewAccessCheckService(
    IOptions<TokenValidationOptions> options,
    IServiceProvider services,
    ILogger<TokenReviewAccessCheckService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var value = options.Value;
        if (value.Mode != TokenValidationMode.Kubernetes || !value.CheckAccessOnStart)
        {
            return;
        }

        var client = services.GetRequiredService<TokenReviewApiClient>().Client;
        await KubernetesAccessCheck.EnsureCanCreateTokenReviewsAsync(client, cancellationToken).ConfigureAwait(false);
        Log.AccessCheckPassed(logger);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>The API client TokenReviews use (its own QPS budget), created only in kubernetes mode.</summary>
internal sealed class TokenReviewApiClient(IKubernetes client) : IDisposable
{
    public IKubernetes Client { get; } = client;

    public void Dispose() => Client.Dispose();
}

/// <summary>The API client events use, separate so events can never eat the TokenReview budget.</summary>
internal sealed class EventApiClient(IKubernetes client) : IDisposable
{
    public IKubernetes Client { get; } = client;

    public void Dispose() => Client.Dispose();
}
