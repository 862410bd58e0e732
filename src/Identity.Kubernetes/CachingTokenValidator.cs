using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Identity.Server.Tokens;
using Microsoft.Extensions.Logging;

namespace Identity.Kubernetes;

/// <summary>
/// Reuses positive token reviews so renewals and restart storms do not each cost an API-server round trip.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Only <see cref="TokenReviewResult.Authenticated"/> results with a known expiry are cached; failures are
/// always re-judged, so a token that becomes valid (or a reviewer that recovers) is noticed at once.</item>
/// <item>Entries are keyed by the SHA-256 of the token bytes; the token itself is never stored.</item>
/// <item>An entry lives for min(<see cref="TokenValidationOptions.CacheTtl"/>, token expiry − now).</item>
/// <item>Concurrent reviews of the same token share a single underlying review (single flight).</item>
/// <item>At most <see cref="TokenValidationOptions.CacheSize"/> entries; when full, expired ones go first, then the oldest
/// (an eighth of the capacity at once, so eviction stays cheap when more distinct tokens arrive than fit).</item>
/// </list>
/// </remarks>
public sealed class CachingTokenValidator : ITokenValidator
{
    private readonly ITokenValidator _inner;
    private readonly TimeSpan _ttl;
    private readonly int _capacity;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<TokenHash, Entry> _entries = new();
    private readonly ConcurrentDictionary<TokenHash, Task<TokenReviewResult>> _inflight = new();
    private readonly Queue<(TokenHash Key, Entry Entry)> _insertionOrder = new();
    private readonly Lock _writeLock = new();

    // ConcurrentDictionary.Count takes every one of the table's locks (up to 1,024 once it has grown), which stalled
    // every writer on each insert during a storm; the count is kept here instead.
    private int _count;
    private readonly Counter<long> _hits;
    private readonly Counter<long> _misses;

    /// <summary>Decorates <paramref name="inner"/>.</summary>
    public CachingTokenValidator(
        ITokenValidator inner,
        TokenValidationOptions options,
        TimeProvider timeProvider,
        IMeterFactory meterFactory,
        ILogger<CachingTokenValidator> logger)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(meterFactory);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.CacheTtl, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.CacheSize, 1);

        _inner = inner;
        _ttl = options.CacheTtl;
        _capacity = options.CacheSize;
        _timeProvider = timeProvider;
        _logger = logger;
        var meter = meterFactory.Create(KubernetesMetrics.MeterName);
        _hits = meter.CreateCounter<long>(KubernetesMetrics.TokenCacheHits, description: "Token reviews answered from the cache");
        _misses = meter.CreateCounter<long>(KubernetesMetrics.TokenCacheMisses, description: "Token reviews passed to the underlying validator");
        // Exported from the start (a counter appears only once it has a value), so a hit ratio has a series to divide.
        _hits.Add(0);
        _misses.Add(0);
    }

    /// <summary>Number of live and not-yet-evicted entries (for tests and diagnostics).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <inheritdoc/>
    public ValueTask<TokenReviewResult> ReviewAsync(ReadOnlyMemory<byte> token, CancellationToken cancellationToken)
    {
        var key = TokenHash.Of(token.Span);
        var now = _timeProvider.GetUtcNow();
        if (_entries.TryGetValue(key, out var entry))
        {
            if (entry.ValidUntil > now)
            {
                _hits.Add(1);
                return ValueTask.FromResult(entry.Result);
            }

            Remove(key, entry);
        }

        return new ValueTask<TokenReviewResult>(JoinOrStartReview(key, token).WaitAsync(cancellationToken));
    }

    private Task<TokenReviewResult> JoinOrStartReview(TokenHash key, ReadOnlyMemory<byte> token)
    {
        if (_inflight.TryGetValue(key, out var running))
        {
            return running;
        }

        // The shared review must not die with whichever caller started it, so it runs without a caller's token;
        // the inner validator bounds it with its own timeout, and each caller stops waiting on its own cancellation.
        var completion = new TaskCompletionSource<TokenReviewResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        running = _inflight.GetOrAdd(key, completion.Task);
        if (running != completion.Task)
        {
            return running;
        }

        // A review of this token may have finished between our cache miss and winning the slot.
        if (_entries.TryGetValue(key, out var entry) && entry.ValidUntil > _timeProvider.GetUtcNow())
        {
            _hits.Add(1);
            completion.SetResult(entry.Result);
            _inflight.TryRemove(new KeyValuePair<TokenHash, Task<TokenReviewResult>>(key, completion.Task));
            return completion.Task;
        }

        _misses.Add(1);
        _ = RunReviewAsync(key, token.ToArray(), completion);
        return completion.Task;
    }

    private async Task RunReviewAsync(TokenHash key, byte[] token, TaskCompletionSource<TokenReviewResult> completion)
    {
        try
        {
            var result = await _inner.ReviewAsync(token, CancellationToken.None).ConfigureAwait(false);
            Store(key, result);
            completion.TrySetResult(result);
        }
        catch (Exception e)
        {
            completion.TrySetException(e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(token);
            _inflight.TryRemove(new KeyValuePair<TokenHash, Task<TokenReviewResult>>(key, completion.Task));
        }
    }

    private void Store(TokenHash key, TokenReviewResult result)
    {
        if (!result.Authenticated || result.ExpiresAt is not { } expiresAt || _ttl == TimeSpan.Zero)
        {
            return;
        }

        var now = _timeProvider.GetUtcNow();
        var capped = now + _ttl;
        var validUntil = expiresAt < capped ? expiresAt : capped;
        if (validUntil <= now)
        {
            return;
        }

        var entry = new Entry(result, validUntil);
        lock (_writeLock)
        {
            if (Count >= _capacity)
            {
                MakeRoom(now);
            }

            Insert(key, entry);
            _insertionOrder.Enqueue((key, entry));
            if (_insertionOrder.Count > 2 * _capacity)
            {
                CompactInsertionOrder();
            }
        }
    }

    private void MakeRoom(DateTimeOffset now)
    {
        var evicted = 0;
        foreach (var (key, entry) in _entries)
        {
            if (entry.ValidUntil <= now && Remove(key, entry))
            {
                evicted++;
            }
        }

        // Still full: drop the oldest insertions down to a low-water mark, so the expiry scan above runs once per
        // capacity/8 inserts rather than on every insert (a restart storm of more proxies than the capacity would
        // otherwise pay O(capacity) under the write lock per review). Small caches free exactly one slot, as before.
        // Queue items whose entry was replaced or removed are stale and skipped.
        var lowWater = _capacity - Math.Max(1, _capacity / 8);
        while (Count > lowWater && _insertionOrder.TryDequeue(out var oldest))
        {
            if (Remove(oldest.Key, oldest.Entry))
            {
                evicted++;
            }
        }

        // Keep the order queue from growing without bound through stale items.
        while (_insertionOrder.TryPeek(out var head) && !(_entries.TryGetValue(head.Key, out var current) && ReferenceEquals(current, head.Entry)))
        {
            _insertionOrder.Dequeue();
        }

        if (evicted > 0)
        {
            Log.CacheEvicted(_logger, evicted, _capacity);
        }
    }

    // Called under the write lock, while readers may remove the same key because it expired.
    private void Insert(TokenHash key, Entry entry)
    {
        while (true)
        {
            if (_entries.TryAdd(key, entry))
            {
                Interlocked.Increment(ref _count);
                return;
            }

            if (_entries.TryGetValue(key, out var old) && _entries.TryUpdate(key, entry, old))
            {
                return;
            }
        }
    }

    private bool Remove(TokenHash key, Entry entry)
    {
        if (!_entries.TryRemove(new KeyValuePair<TokenHash, Entry>(key, entry)))
        {
            return false;
        }

        Interlocked.Decrement(ref _count);
        return true;
    }

    // Re-inserted or expired keys leave stale items behind; rebuilding when the queue doubles keeps it O(capacity)
    // at amortized O(1) per insert.
    private void CompactInsertionOrder()
    {
        var live = _insertionOrder.Where(item => _entries.TryGetValue(item.Key, out var current) && ReferenceEquals(current, item.Entry)).ToList();
        _insertionOrder.Clear();
        foreach (var item in live)
        {
            _insertionOrder.Enqueue(item);
        }
    }

    private sealed record Entry(TokenReviewResult Result, DateTimeOffset ValidUntil);

    /// <summary>SHA-256 of the token as four machine words: cheap to compare and hash, and not the token.</summary>
    private readonly record struct TokenHash(ulong A, ulong B, ulong C, ulong D)
    {
        public static TokenHash Of(ReadOnlySpan<byte> token)
        {
            Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(token, digest);
            var words = MemoryMarshal.Cast<byte, ulong>(digest);
            return new TokenHash(words[0], words[1], words[2], words[3]);
        }
    }
}
