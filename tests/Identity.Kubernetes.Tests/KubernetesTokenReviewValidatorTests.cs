using Identity.Server.Tokens;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Identity.Kubernetes.Tests;

public sealed class KubernetesTokenReviewValidatorTests : IAsyncLifetime
{
    private const string AudienceError =
        "[invalid bearer token, token audiences [\"identity.l5d.io\"] is invalid for the target audiences [\"https://kubernetes.default.svc.cluster.local\"]]";

    private FakeKubernetesApi _api = null!;

    public async ValueTask InitializeAsync() => _api = await FakeKubernetesApi.StartAsync(TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync() => await _api.DisposeAsync();

    private KubernetesTokenReviewValidator CreateValidator(TimeProvider? time = null, int maxConcurrent = 64) =>
        new(_api.CreateClient(),
            new TokenValidationOptions { MaxConcurrentReviews = maxConcurrent, ReviewTimeout = TimeSpan.FromSeconds(5) },
            time ?? TimeProvider.System,
            TestSupport.MeterFactory(),
            NullLogger<KubernetesTokenReviewValidator>.Instance);

    [Fact]
    public async Task Authenticated_review_returns_username_and_token_expiry_and_sends_linkerd_shape()
    {
        var exp = DateTimeOffset.FromUnixTimeSeconds(4_102_444_800); // 2100-01-01, only parsed, never trusted
        var token = TestSupport.OpaqueJwt(exp);
        _api.OnTokenReview = (_, _) => Task.FromResult(FakeKubernetesApi.Authenticated("system:serviceaccount:emojivoto:web", "identity.l5d.io"));
        using var validator = CreateValidator();

        var result = await validator.ReviewAsync(TestSupport.Bytes(token), TestContext.Current.CancellationToken);

        Assert.Equal(TokenReviewResult.Success("system:serviceaccount:emojivoto:web", exp), result);
        var review = Assert.Single(_api.Reviews);
        Assert.Equal("authentication.k8s.io/v1", review.ApiVersion);
        Assert.Equal("TokenReview", review.Kind);
        Assert.Equal(token, review.Token);
        Assert.Equal(["identity.l5d.io"], review.Audiences);
        Assert.Equal("Bearer " + FakeKubernetesApi.BearerToken, review.Authorization);
    }

    [Fact]
    public async Task Non_jwt_token_is_authenticated_without_expiry()
    {
        using var validator = CreateValidator();

        var result = await validator.ReviewAsync(TestSupport.Bytes("not-a-jwt"), TestContext.Current.CancellationToken);

        Assert.True(result.Authenticated);
        Assert.Null(result.ExpiresAt);
    }

    [Fact]
    public async Task Audience_error_retries_once_without_audiences()
    {
        _api.OnTokenReview = (review, _) => Task.FromResult(review.Audiences is { Count: > 0 }
            ? FakeKubernetesApi.ReviewError(AudienceError)
            : FakeKubernetesApi.Authenticated("system:serviceaccount:legacy:app"));
        using var validator = CreateValidator();

        var result = await validator.ReviewAsync(TestSupport.Bytes("legacy-token"), TestContext.Current.CancellationToken);

        Assert.True(result.Authenticated);
        Assert.Equal("system:serviceaccount:legacy:app", result.Username);
        var reviews = _api.Reviews.ToArray();
        Assert.Equal(2, reviews.Length);
        Assert.Equal(["identity.l5d.io"], reviews[0].Audiences);
        Assert.Null(reviews[1].Audiences); // omitted on the wire, exactly like Linkerd's request
        Assert.Equal("legacy-token", reviews[1].Token);
    }

    [Fact]
    public async Task Audience_fallback_error_is_returned_verbatim()
    {
        _api.OnTokenReview = (review, _) => Task.FromResult(FakeKubernetesApi.ReviewError(
            review.Audiences is { Count: > 0 } ? AudienceError : "[invalid bearer token, token has been invalidated]"));
        using var validator = CreateValidator();

        var result = await validator.ReviewAsync(TestSupport.Bytes("t"), TestContext.Current.CancellationToken);

        Assert.Equal(TokenReviewResult.Failed("[invalid bearer token, token has been invalidated]"), result);
        Assert.Equal(2, _api.ReviewCount);
    }

    [Fact]
    public async Task Other_status_error_is_returned_verbatim_without_retry()
    {
        _api.OnTokenReview = (_, _) => Task.FromResult(FakeKubernetesApi.ReviewError("[invalid bearer token, square/go-jose: error in cryptographic primitive]"));
        using var validator = CreateValidator();

        var result = await validator.ReviewAsync(TestSupport.Bytes("t"), TestContext.Current.CancellationToken);

        Assert.Equal(TokenReviewResult.Failed("[invalid bearer token, square/go-jose: error in cryptographic primitive]"), result);
        Assert.Equal(1, _api.ReviewCount);
    }

    [Fact]
    public async Task Unauthenticated_review_maps_to_unauthenticated()
    {
        _api.OnTokenReview = (_, _) => Task.FromResult(FakeKubernetesApi.Unauthenticated());
        using var validator = CreateValidator();

        var result = await validator.ReviewAsync(TestSupport.Bytes("t"), TestContext.Current.CancellationToken);

        Assert.Equal(TokenReviewResult.Unauthenticated(), result);
    }

    [Theory]
    [InlineData(500, "InternalError", "etcdserver: request timed out")]
    [InlineData(401, "Unauthorized", "Unauthorized")]
    [InlineData(429, "TooManyRequests", "storage is (re)initializing")]
    public async Task Api_failure_throws_unavailable_with_status_message_and_no_token(int code, string reason, string message)
    {
        const string Token = "secret-token-value";
        _api.OnTokenReview = (_, _) => Task.FromResult(FakeKubernetesApi.Status(code, reason, message + " for " + Token));
        using var validator = CreateValidator();

        var e = await Assert.ThrowsAsync<TokenValidationUnavailableException>(
            async () => await validator.ReviewAsync(TestSupport.Bytes(Token), TestContext.Current.CancellationToken));

        Assert.Contains($"HTTP {code}", e.Message, StringComparison.Ordinal);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unreachable_api_server_throws_unavailable()
    {
        var config = _api.ClientConfiguration();
        await _api.DisposeAsync();
        _api = await FakeKubernetesApi.StartAsync(TestContext.Current.CancellationToken); // keep DisposeAsync balanced; the old port is now closed
        using var validator = new KubernetesTokenReviewValidator(new k8s.Kubernetes(config), new TokenValidationOptions(),
            TimeProvider.System, TestSupport.MeterFactory(), NullLogger<KubernetesTokenReviewValidator>.Instance);

        await Assert.ThrowsAsync<TokenValidationUnavailableException>(
            async () => await validator.ReviewAsync(TestSupport.Bytes("t"), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Slow_review_times_out_as_unavailable_under_the_time_provider()
    {
        var time = new FakeTimeProvider();
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _api.OnTokenReview = async (_, aborted) =>
        {
            arrived.TrySetResult();
            await Task.Delay(Timeout.Infinite, aborted);
            return Results.StatusCode(500);
        };
        using var validator = CreateValidator(time);

        var review = validator.ReviewAsync(TestSupport.Bytes("t"), TestContext.Current.CancellationToken).AsTask();
        await arrived.Task.WaitAsync(TestContext.Current.CancellationToken);
        time.Advance(TimeSpan.FromSeconds(5));

        var e = await Assert.ThrowsAsync<TokenValidationUnavailableException>(() => review);
        Assert.Equal("TokenReview timed out after 5s", e.Message);
    }

    [Fact]
    public async Task Requests_beyond_the_qps_budget_wait_and_the_wait_is_bounded_by_the_review_timeout()
    {
        var time = new FakeTimeProvider();
        // One request of burst, then one token per ~16 minutes: the second review must wait on the limiter.
        var client = KubernetesClientFactory.Create(_api.ClientConfiguration(), qps: 0.001, burst: 1);
        using var validator = new KubernetesTokenReviewValidator(client,
            new TokenValidationOptions { ReviewTimeout = TimeSpan.FromSeconds(5) }, time,
            TestSupport.MeterFactory(), NullLogger<KubernetesTokenReviewValidator>.Instance);

        Assert.True((await validator.ReviewAsync(TestSupport.Bytes("first"), TestContext.Current.CancellationToken)).Authenticated);
        var second = validator.ReviewAsync(TestSupport.Bytes("second"), TestContext.Current.CancellationToken).AsTask();
        Assert.False(second.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(5));

        var e = await Assert.ThrowsAsync<TokenValidationUnavailableException>(() => second);
        Assert.Equal("TokenReview timed out after 5s waiting for the client rate limiter (raise kube-apiclient-qps/burst)", e.Message);
        Assert.Equal(1, _api.ReviewCount);
    }

    [Fact]
    public async Task Caller_cancellation_is_not_reported_as_unavailable()
    {
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _api.OnTokenReview = async (_, aborted) =>
        {
            arrived.TrySetResult();
            await Task.Delay(Timeout.Infinite, aborted);
            return Results.StatusCode(500);
        };
        using var validator = CreateValidator();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

        var review = validator.ReviewAsync(TestSupport.Bytes("t"), cts.Token).AsTask();
        await arrived.Task.WaitAsync(TestContext.Current.CancellationToken);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => review);
    }

    [Fact]
    public async Task Concurrent_reviews_are_bounded()
    {
        const int Bound = 3;
        const int Callers = 8;
        var gate = new SemaphoreSlim(0);
        var bounded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _api.ReviewArrived += () =>
        {
            if (_api.InFlight >= Bound)
            {
                bounded.TrySetResult();
            }
        };
        _api.OnTokenReview = async (review, aborted) =>
        {
            await gate.WaitAsync(aborted);
            return FakeKubernetesApi.Authenticated("system:serviceaccount:ns:" + review.Token);
        };
        using var validator = CreateValidator(maxConcurrent: Bound);

        var reviews = Enumerable.Range(0, Callers)
            .Select(i => validator.ReviewAsync(TestSupport.Bytes("sa" + i), TestContext.Current.CancellationToken).AsTask())
            .ToArray();
        await bounded.Task.WaitAsync(TestContext.Current.CancellationToken);
        // A broken bound would let the remaining callers reach the server while the gate is still shut.
        await Task.Delay(150, TestContext.Current.CancellationToken);
        Assert.Equal(Bound, _api.InFlight);
        gate.Release(Callers);
        var results = await Task.WhenAll(reviews);

        Assert.All(results, r => Assert.True(r.Authenticated));
        Assert.Equal(Callers, _api.ReviewCount);
        Assert.Equal(Bound, _api.MaxInFlight);
    }

    [Fact]
    public async Task Waiting_for_a_review_slot_honours_cancellation()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _api.OnTokenReview = async (_, aborted) =>
        {
            arrived.TrySetResult();
            await gate.Task.WaitAsync(aborted);
            return FakeKubernetesApi.Authenticated("system:serviceaccount:a:b");
        };
        using var validator = CreateValidator(maxConcurrent: 1);
        var first = validator.ReviewAsync(TestSupport.Bytes("one"), TestContext.Current.CancellationToken).AsTask();
        await arrived.Task.WaitAsync(TestContext.Current.CancellationToken);
        using var cts = new CancellationTokenSource();

        var second = validator.ReviewAsync(TestSupport.Bytes("two"), cts.Token).AsTask();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second);
        gate.SetResult();
        Assert.True((await first).Authenticated);
        Assert.Equal(1, _api.ReviewCount);
    }
}
