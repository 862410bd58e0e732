using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using System.Text.Json;
using Identity.Server.Tokens;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Identity.Kubernetes;

/// <summary>
/// Judges tokens with the Kubernetes TokenReview API, the way linkerd-identity does: review for the
/// <c>identity.l5d.io</c> audience first and, if the API server rejects the audience, once more with its
/// default audiences (so legacy, non-projected tokens keep working).
/// </summary>
/// <remarks>
/// At most <see cref="TokenValidationOptions.MaxConcurrentReviews"/> reviews run at once and each is bounded by
/// <see cref="TokenValidationOptions.ReviewTimeout"/>; a burst of proxies therefore queues here instead of
/// piling onto the API server (lessons §2). Wrap with <see cref="CachingTokenValidator"/> to reuse results.
/// </remarks>
public sealed class KubernetesTokenReviewValidator : ITokenValidator, IDisposable
{
    private const string AudienceErrorMarker = "token audiences";

    // API-server round trips: milliseconds when healthy, up to the review timeout when not.
    private static readonly double[] LatencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    private readonly IKubernetes _client;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _timeProvider;
    private readonly SemaphoreSlim _concurrency;
    private readonly Counter<long> _reviews;
    private readonly Histogram<double> _reviewDuration;
    private readonly ILogger _logger;

    /// <summary>Creates a validator over <paramref name="client"/> (see <see cref="KubernetesClientFactory"/>).</summary>
    public KubernetesTokenReviewValidator(
        IKubernetes client,
        TokenValidationOptions options,
        TimeProvider timeProvider,
        IMeterFactory meterFactory,
        ILogger<KubernetesTokenReviewValidator> logger)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(meterFactory);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxConcurrentReviews, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.ReviewTimeout, TimeSpan.Zero);

        _client = client;
        _timeout = options.ReviewTimeout;
        _timeProvider = timeProvider;
        _concurrency = new SemaphoreSlim(options.MaxConcurrentReviews, options.MaxConcurrentReviews);
        var meter = meterFactory.Create(KubernetesMetrics.MeterName);
        _reviews = meter.CreateCounter<long>(KubernetesMetrics.TokenReviews, description: "TokenReview API calls by result");
        _reviewDuration = meter.CreateHistogram(KubernetesMetrics.TokenReviewDuration, "s", "TokenReview API call latency",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        _logger = logger;
    }

    /// <inheritdoc/>
    public async ValueTask<TokenReviewResult> ReviewAsync(ReadOnlyMemory<byte> token, CancellationToken cancellationToken)
    {
        var text = Encoding.UTF8.GetString(token.Span);

        await _concurrency.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var status = await ReviewOnceAsync(text, [TokenValidationOptions.LinkerdAudience], cancellationToken).ConfigureAwait(false);
            if (status.Error is { } firstError && firstError.Contains(AudienceErrorMarker, StringComparison.Ordinal))
            {
                Log.TokenReviewAudienceFallback(_logger, firstError);
                // No audiences at all (the field is omitted, as client-go does for Linkerd's empty slice) means the API
                // server's default audiences.
                status = await ReviewOnceAsync(text, null, cancellationToken).ConfigureAwait(false);
            }

            if (!string.IsNullOrEmpty(status.Error))
            {
                Count("error");
                return TokenReviewResult.Failed(status.Error);
            }

            if (status.Authenticated != true || string.IsNullOrEmpty(status.User?.Username))
            {
                Count("unauthenticated");
                return TokenReviewResult.Unauthenticated();
            }

            Count("authenticated");
            return TokenReviewResult.Success(status.User.Username, JwtExpiry.TryRead(text));
        }
        finally
        {
            _concurrency.Release();
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _concurrency.Dispose();

    private async Task<V1TokenReviewStatus> ReviewOnceAsync(string token, IList<string>? audiences, CancellationToken cancellationToken)
    {
        var review = new V1TokenReview
        {
            ApiVersion = "authentication.k8s.io/v1",
            Kind = "TokenReview",
            Metadata = new V1ObjectMeta(),
            Spec = new V1TokenReviewSpec { Token = token, Audiences = audiences },
        };

        using var timeout = new CancellationTokenSource(_timeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var started = Stopwatch.GetTimestamp();
        var outcome = "unavailable";
        try
        {
            var result = await _client.AuthenticationV1.CreateTokenReviewAsync(review, cancellationToken: linked.Token).ConfigureAwait(false);
            outcome = ResultOf(result?.Status);
            return result?.Status ?? throw Unavailable("the API server returned a TokenReview without a status", token, null);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException e)
        {
            var throttled = e is ClientRateLimitedException || e.InnerException is ClientRateLimitedException;
            throw Unavailable(
                throttled
                    ? $"TokenReview timed out after {_timeout.TotalSeconds:0.###}s waiting for the client rate limiter (raise kube-apiclient-qps/burst)"
                    : $"TokenReview timed out after {_timeout.TotalSeconds:0.###}s",
                token,
                e);
        }
        catch (HttpOperationException e)
        {
            throw Unavailable(DescribeHttpFailure(e), token, e);
        }
        catch (HttpRequestException e)
        {
            throw Unavailable($"TokenReview request failed: {e.Message}", token, e);
        }
        catch (JsonException e)
        {
            throw Unavailable($"TokenReview response could not be read: {e.Message}", token, e);
        }
        finally
        {
            _reviewDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds,
                new KeyValuePair<string, object?>("result", cancellationToken.IsCancellationRequested ? "cancelled" : outcome));
        }
    }

    private TokenValidationUnavailableException Unavailable(string message, string token, Exception? inner)
    {
        // The API server does not echo tokens, but a proxy in between might; never let one into a status or log.
        // Very short "tokens" are not secrets and would shred the message.
        if (token.Length >= 12)
        {
            message = message.Replace(token, "[redacted]", StringComparison.Ordinal);
        }

        Count("unavailable");
        Log.TokenReviewUnavailable(_logger, message);
        return inner is null ? new TokenValidationUnavailableException(message) : new TokenValidationUnavailableException(message, inner);
    }

    private static string DescribeHttpFailure(HttpOperationException e)
    {
        var code = e.Response?.StatusCode ?? 0;
        var detail = TryReadStatusMessage(e.Response?.Content);
        var prefix = $"TokenReview failed: HTTP {(int)code} {code}";
        return detail is null ? prefix : $"{prefix}: {detail}";
    }

    private static string? TryReadStatusMessage(string? content)
    {
        if (string.IsNullOrWhiteSpace(content))
        {
            return null;
        }

        try
        {
            using var doc = JsonDocument.Parse(content);
            if (doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("message", out var message)
                && message.ValueKind == JsonValueKind.String)
            {
                return message.GetString();
            }
        }
        catch (JsonException)
        {
            // Not a metav1.Status: fall through to a short excerpt of the body.
        }

        const int MaxExcerpt = 200;
        return content.Length <= MaxExcerpt ? content.Trim() : content[..MaxExcerpt].Trim() + "…";
    }

    private static string ResultOf(V1TokenReviewStatus? status) => status switch
    {
        null => "unavailable",
        { Error.Length: > 0 } => "error",
        { Authenticated: true } => "authenticated",
        _ => "unauthenticated",
    };

    private void Count(string result) => _reviews.Add(1, new KeyValuePair<string, object?>("result", result));
}

