using System.Text;
using Identity.Server.Tokens;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Identity.Kubernetes.Tests;

public sealed class CachingTokenValidatorTests
{
    private static readonly DateTimeOffset Start = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Start);

    private CachingTokenValidator Create(ITokenValidator inner, TimeSpan? ttl = null, int size = 100, System.Diagnostics.Metrics.IMeterFactory? meters = null) =>
        new(inner, new TokenValidationOptions { CacheTtl = ttl ?? TimeSpan.FromMinutes(5), CacheSize = size }, _time,
            meters ?? TestSupport.MeterFactory(), NullLogger<CachingTokenValidator>.Instance);

    [Fact]
    public async Task Positive_result_is_reused_until_the_cap()
    {
        var inner = new CountingValidator(_ => TokenReviewResult.Success("system:serviceaccount:a:b", Start.AddHours(1)));
        var cache = Create(inner);
        var ct = TestContext.Current.CancellationToken;

        await cache.ReviewAsync(TestSupport.Bytes("tok"), ct);
        _time.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromTicks(1));
        var hit = await cache.ReviewAsync(TestSupport.Bytes("tok"), ct);
        Assert.Equal(1, inner.Calls);
        Assert.Equal("system:serviceaccount:a:b", hit.Username);

        _time.Advance(TimeSpan.FromTicks(1));
        await cache.ReviewAsync(TestSupport.Bytes("tok"), ct);
        Assert.Equal(2, inner.Calls);
    }

    [Fact]
    public async Task Entry_lifetime_is_bounded_by_token_expiry()
    {
        var inner = new CountingValidator(_ => TokenReviewResult.Success("system:serviceaccount:a:b", Start.AddSeconds(90)));
        var cache = Create(inner);
        var ct = TestContext.Current.CancellationToken;

        await cache.ReviewAsync(TestSupport.Bytes("tok"), ct);
        _time.Advance(TimeSpan.FromSeconds(89));
        await cache.ReviewAsync(TestSupport.Bytes("tok"), ct);
        Assert.Equal(1, inner.Calls);

        _time.Advance(TimeSpan.FromSeconds(1));
        await cache.ReviewAsync(TestSupport.Bytes("tok"), ct);
        Assert.Equal(2, inner.Calls);
    }

    [Fact]
    public async Task Already_expired_or_unknown_expiry_is_not_cached()
    {
        var expiries = new Queue<DateTimeOffset?>([Start, null, Start.AddMinutes(1)]);
        var inner = new CountingValidator(_ => TokenReviewResult.Success("system:serviceaccount:a:b", expiries.Dequeue()));
        var cache = Create(inner);
        var ct = TestContext.Current.CancellationToken;

        await cache.ReviewAsync(TestSupport.Bytes("tok"), ct);
        await cache.ReviewAsync(TestSupport.Bytes("tok"), ct);
        await cache.ReviewAsync(TestSupport.Bytes("tok"), ct);
        await cache.ReviewAsync(TestSupport.Bytes("tok"), ct);

        Assert.Equal(3, inner.Calls);
        Assert.Equal(1, cache.Count);
    }

    [Theory]
    [InlineData("failed")]
    [InlineData("unauthenticated")]
    [InlineData("unavailable")]
    public async Task Negative_results_are_never_cached(string kind)
    {
        var inner = new CountingValidator(_ => kind switch
        {
            "failed" => TokenReviewResult.Failed("token has expired"),
            "unauthenticated" => TokenReviewResult.Unauthenticated(),
            _ => throw new TokenValidationUnavailableException("api down"),
        });
        var cache = Create(inner);

        for (var i = 0; i < 3; i++)
        {
            try
            {
                var result = await cache.ReviewAsync(TestSupport.Bytes("tok"), TestContext.Current.CancellationToken);
                Assert.False(result.Authenticated);
            }
            catch (TokenValidationUnavailableException e)
            {
                Assert.Equal("api down", e.Message);
            }
        }

        Assert.Equal(3, inner.Calls);
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public async Task Keys_are_the_token_bytes_so_different_tokens_are_reviewed_separately()
    {
        var inner = new CountingValidator(token => TokenReviewResult.Success("system:serviceaccount:ns:" + token, Start.AddHours(1)));
        var cache = Create(inner);
        var ct = TestContext.Current.CancellationToken;

        var a = await cache.ReviewAsync(TestSupport.Bytes("alpha"), ct);
        var b = await cache.ReviewAsync(TestSupport.Bytes("alphb"), ct);
        var a2 = await cache.ReviewAsync(new ReadOnlyMemory<byte>(Encoding.UTF8.GetBytes("xalpha"), 1, 5), ct);

        Assert.Equal("system:serviceaccount:ns:alpha", a.Username);
        Assert.Equal("system:serviceaccount:ns:alphb", b.Username);
        Assert.Equal(a, a2);
        Assert.Equal(2, inner.Calls);
    }

    [Fact]
    public async Task Cache_is_bounded_and_evicts_the_oldest()
    {
        var inner = new CountingValidator(token => TokenReviewResult.Success("system:serviceaccount:ns:" + token, Start.AddHours(1)));
        var cache = Create(inner, size: 3);
        var ct = TestContext.Current.CancellationToken;

        foreach (var token in new[] { "t1", "t2", "t3", "t4" })
        {
            await cache.ReviewAsync(TestSupport.Bytes(token), ct);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(3, cache.Count);
        await cache.ReviewAsync(TestSupport.Bytes("t4"), ct);
        await cache.ReviewAsync(TestSupport.Bytes("t2"), ct);
        Assert.Equal(4, inner.Calls);
        await cache.ReviewAsync(TestSupport.Bytes("t1"), ct);
        Assert.Equal(5, inner.Calls);
    }

    [Fact]
    public async Task A_full_cache_drops_its_oldest_eighth_at_once_so_eviction_is_not_paid_on_every_insert()
    {
        var inner = new CountingValidator(token => TokenReviewResult.Success("system:serviceaccount:ns:" + token, Start.AddHours(1)));
        var cache = Create(inner, size: 16);
        var ct = TestContext.Current.CancellationToken;

        for (var i = 0; i < 17; i++)
        {
            await cache.ReviewAsync(TestSupport.Bytes($"t{i}"), ct);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        // Inserting the 17th removed the two oldest (16 / 8), leaving room for one more insert without a scan.
        Assert.Equal(15, cache.Count);
        await cache.ReviewAsync(TestSupport.Bytes("t2"), ct);
        await cache.ReviewAsync(TestSupport.Bytes("t16"), ct);
        Assert.Equal(17, inner.Calls);
        await cache.ReviewAsync(TestSupport.Bytes("t0"), ct);
        await cache.ReviewAsync(TestSupport.Bytes("t1"), ct);
        Assert.Equal(19, inner.Calls);
    }

    [Fact]
    public async Task Expired_entries_are_evicted_before_live_ones()
    {
        var expiries = new Dictionary<string, DateTimeOffset> { ["short"] = Start.AddSeconds(10), ["a"] = Start.AddHours(1), ["b"] = Start.AddHours(1) };
        var inner = new CountingValidator(token => TokenReviewResult.Success("system:serviceaccount:ns:" + token, expiries[token]));
        var cache = Create(inner, size: 2);
        var ct = TestContext.Current.CancellationToken;

        await cache.ReviewAsync(TestSupport.Bytes("a"), ct);
        await cache.ReviewAsync(TestSupport.Bytes("short"), ct);
        _time.Advance(TimeSpan.FromSeconds(30));
        await cache.ReviewAsync(TestSupport.Bytes("b"), ct);
        await cache.ReviewAsync(TestSupport.Bytes("a"), ct);

        Assert.Equal(3, inner.Calls);
    }

    [Fact]
    public async Task Zero_ttl_disables_caching()
    {
        var inner = new CountingValidator(_ => TokenReviewResult.Success("system:serviceaccount:a:b", Start.AddHours(1)));
        var cache = Create(inner, ttl: TimeSpan.Zero);

        await cache.ReviewAsync(TestSupport.Bytes("tok"), TestContext.Current.CancellationToken);
        await cache.ReviewAsync(TestSupport.Bytes("tok"), TestContext.Current.CancellationToken);

        Assert.Equal(2, inner.Calls);
    }

    [Fact]
    public async Task Concurrent_identical_tokens_share_one_review_and_hits_and_misses_are_counted()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var inner = new CountingValidator(_ => TokenReviewResult.Success("system:serviceaccount:a:b", Start.AddHours(1)), gate.Task);
        var meters = TestSupport.MeterFactory();
        using var hits = new MetricRecorder(meters, KubernetesMetrics.MeterName, KubernetesMetrics.TokenCacheHits);
        using var misses = new MetricRecorder(meters, KubernetesMetrics.MeterName, KubernetesMetrics.TokenCacheMisses);
        var cache = Create(inner, meters: meters);

        var burst = Enumerable.Range(0, 50).Select(_ => cache.ReviewAsync(TestSupport.Bytes("same"), TestContext.Current.CancellationToken).AsTask()).ToArray();
        gate.SetResult();
        var results = await Task.WhenAll(burst);
        await cache.ReviewAsync(TestSupport.Bytes("same"), TestContext.Current.CancellationToken);

        Assert.All(results, r => Assert.Equal("system:serviceaccount:a:b", r.Username));
        Assert.Equal(1, inner.Calls);
        Assert.Equal(1, misses.Total);
        Assert.Equal(1, hits.Total);
    }

    [Fact]
    public async Task A_cancelled_waiter_does_not_cancel_the_shared_review()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var inner = new CountingValidator(_ => TokenReviewResult.Success("system:serviceaccount:a:b", Start.AddHours(1)), gate.Task);
        var cache = Create(inner);
        using var cts = new CancellationTokenSource();

        var first = cache.ReviewAsync(TestSupport.Bytes("same"), cts.Token).AsTask();
        var second = cache.ReviewAsync(TestSupport.Bytes("same"), TestContext.Current.CancellationToken).AsTask();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        gate.SetResult();

        Assert.True((await second).Authenticated);
        Assert.Equal(1, inner.Calls);
    }

    [Fact]
    public async Task Burst_of_identical_tokens_costs_one_token_review_against_the_api()
    {
        await using var api = await FakeKubernetesApi.StartAsync(TestContext.Current.CancellationToken);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        api.OnTokenReview = async (_, aborted) =>
        {
            await gate.Task.WaitAsync(aborted);
            return FakeKubernetesApi.Authenticated("system:serviceaccount:emojivoto:web");
        };
        var options = new TokenValidationOptions();
        using var reviewer = new KubernetesTokenReviewValidator(api.CreateClient(), options, TimeProvider.System,
            TestSupport.MeterFactory(), NullLogger<KubernetesTokenReviewValidator>.Instance);
        var cache = new CachingTokenValidator(reviewer, options, TimeProvider.System, TestSupport.MeterFactory(), NullLogger<CachingTokenValidator>.Instance);
        var token = TestSupport.OpaqueJwt(DateTimeOffset.UtcNow.AddHours(1));

        var burst = Enumerable.Range(0, 100).Select(_ => cache.ReviewAsync(TestSupport.Bytes(token), TestContext.Current.CancellationToken).AsTask()).ToArray();
        gate.SetResult();
        var results = await Task.WhenAll(burst);
        var later = await cache.ReviewAsync(TestSupport.Bytes(token), TestContext.Current.CancellationToken);

        Assert.All(results, r => Assert.Equal("system:serviceaccount:emojivoto:web", r.Username));
        Assert.True(later.Authenticated);
        Assert.Equal(1, api.ReviewCount);
    }

    private sealed class CountingValidator(Func<string, TokenReviewResult> answer, Task? gate = null) : ITokenValidator
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public async ValueTask<TokenReviewResult> ReviewAsync(ReadOnlyMemory<byte> token, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            if (gate is not null)
            {
                await gate.WaitAsync(cancellationToken);
            }

            return answer(Encoding.UTF8.GetString(token.Span));
        }
    }
}
