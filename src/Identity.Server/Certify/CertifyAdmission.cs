using System.Diagnostics;
using Grpc.Core;
using Identity.Server.Metrics;
using Microsoft.Extensions.Options;

namespace Identity.Server.Certify;

/// <summary>
/// Admission control in front of all of Certify's expensive work: at most
/// <see cref="IdentityServerOptions.MaxConcurrentCertify"/> calls in progress, at most
/// <see cref="IdentityServerOptions.CertifyQueue"/> waiting in arrival order, and every call beyond that refused at
/// once with <c>RESOURCE_EXHAUSTED</c>, before its CSR is parsed or its token reviewed. So is a call that would have
/// to wait past its own deadline (from the rate calls are finishing at): it gets an answer it can act on now
/// instead of a deadline miss later. A waiting call whose deadline passes or whose caller goes away leaves the queue
/// and costs nothing more. Memory is bounded with it: a storm can hold at most in-progress + queued calls, whatever
/// the number of callers.
/// </summary>
internal sealed class CertifyAdmission
{
    private readonly object _lock = new();
    private readonly LinkedList<Waiter> _queue = new();
    private readonly int _maxInProgress;
    private readonly int _maxQueued;
    private readonly IdentityMetrics _metrics;
    private int _inProgress;
    private int _queuedCount;

    // Completions per second while calls were waiting, smoothed over windows of at least WindowTicks; 0 until the
    // first window closed. Not per-call service time: under a storm a call's time in its slot stretches with
    // everything else the process does, while the rate at which calls leave the queue is exactly what a new last
    // place waits for (Little's law). Not while nothing waits either: that rate is how fast calls arrive.
    private static readonly long WindowTicks = Stopwatch.Frequency / 10;
    private double _throughput;
    private long _windowStart = Stopwatch.GetTimestamp();
    private int _windowCompletions;

    public CertifyAdmission(IOptions<IdentityServerOptions> options, IdentityMetrics metrics)
    {
        var value = options.Value;
        _maxInProgress = value.EffectiveMaxConcurrentCertify;
        _maxQueued = value.EffectiveCertifyQueue;
        _metrics = metrics;
        metrics.ObserveAdmission(() => InProgress, () => Queued);
    }

    /// <summary>Calls holding a slot now.</summary>
    public int InProgress => Volatile.Read(ref _inProgress);

    /// <summary>Calls waiting for a slot now.</summary>
    public int Queued => Volatile.Read(ref _queuedCount);

    /// <summary>Raised after a call is queued or leaves the queue (for tests that must wait for a state, not a time).</summary>
    public event Action? QueueChanged;

    /// <summary>The refusal when neither a slot nor a queue place is free.</summary>
    public string CapacityMessage =>
        $"identity server is at capacity ({_maxInProgress} certificate requests in progress, {_maxQueued} queued); retry with backoff";

    /// <summary>
    /// A slot for one call: at once when one is free, after waiting in the queue otherwise. Throws an
    /// <see cref="RpcException"/> (<c>RESOURCE_EXHAUSTED</c>) when the queue is full too, and
    /// <see cref="OperationCanceledException"/> when the call's deadline passes or its caller goes away first.
    /// </summary>
    /// <param name="deadline">The call's deadline (UTC, on the system clock grpc-dotnet measures it with), or
    /// <see cref="DateTime.MaxValue"/> for none.</param>
    /// <param name="cancellationToken">Cancelled when the deadline passes or the caller goes away.</param>
    public ValueTask<Lease> AcquireAsync(DateTime deadline, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Waiter waiter;
        lock (_lock)
        {
            if (_inProgress < _maxInProgress)
            {
                _inProgress++;
                return ValueTask.FromResult(new Lease(this));
            }

            if (_queuedCount >= _maxQueued)
            {
                _metrics.RecordAdmissionRefused(IdentityMetrics.RefusedCapacity);
                throw new RpcException(new Status(StatusCode.ResourceExhausted, CapacityMessage));
            }

            if (WouldMissDeadline(deadline) is { } wait)
            {
                _metrics.RecordAdmissionRefused(IdentityMetrics.RefusedDeadline);
                throw new RpcException(new Status(StatusCode.ResourceExhausted,
                    $"identity server would not answer before the call's deadline ({_queuedCount} certificate requests queued, about {(long)wait.TotalMilliseconds} ms to wait); retry with backoff"));
            }

            waiter = new Waiter(Stopwatch.GetTimestamp());
            waiter.Node = _queue.AddLast(waiter);
            _queuedCount++;
        }

        QueueChanged?.Invoke();

        return WaitAsync(waiter, cancellationToken);
    }

    private async ValueTask<Lease> WaitAsync(Waiter waiter, CancellationToken cancellationToken)
    {
        using (cancellationToken.UnsafeRegister(static (state, token) => ((Waiter)state!).Completion.TrySetCanceled(token), waiter))
        {
            try
            {
                await waiter.Completion.Task.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                lock (_lock)
                {
                    // Still queued (a Release that dequeued it first found it cancelled and moved on).
                    if (waiter.Node?.List is not null)
                    {
                        _queue.Remove(waiter.Node);
                        _queuedCount--;
                    }
                }

                _metrics.RecordAdmissionRefused(IdentityMetrics.RefusedAbandoned);
                QueueChanged?.Invoke();
                throw;
            }
        }

        _metrics.RecordQueueWait(Stopwatch.GetElapsedTime(waiter.Enqueued));
        QueueChanged?.Invoke();
        return new Lease(this);
    }

    /// <summary>Folds a measured rate (calls finished per second while others waited) into the estimate.</summary>
    internal void RecordThroughput(double perSecond)
    {
        lock (_lock)
        {
            Fold(perSecond);
        }
    }

    // Called under the lock: the first window's rate as it is, each later one averaged with the estimate.
    private void Fold(double perSecond) => _throughput = _throughput == 0 ? perSecond : (_throughput + perSecond) / 2;

    // Called under the lock: a new last place waits until everything ahead of it has finished. Null when it should
    // make its deadline (or nothing has been measured yet, or the call has no deadline).
    private TimeSpan? WouldMissDeadline(DateTime deadline)
    {
        if (deadline == DateTime.MaxValue || _throughput == 0)
        {
            return null;
        }

        var wait = TimeSpan.FromSeconds((_queuedCount + 1) / _throughput);
        return DateTime.UtcNow + wait > deadline ? wait : null;
    }

    // Called under the lock.
    private void CountCompletion()
    {
        var now = Stopwatch.GetTimestamp();
        if (_queuedCount == 0)
        {
            _windowStart = now;
            _windowCompletions = 0;
            return;
        }

        _windowCompletions++;
        var elapsed = now - _windowStart;
        if (elapsed >= WindowTicks)
        {
            Fold(_windowCompletions * (double)Stopwatch.Frequency / elapsed);
            _windowStart = now;
            _windowCompletions = 0;
        }
    }

    private void Release()
    {
        lock (_lock)
        {
            CountCompletion();
            while (_queue.First is { } first)
            {
                _queue.RemoveFirst();
                _queuedCount--;
                // A waiter cancelled in the meantime is skipped; the slot goes to the next one.
                if (first.Value.Completion.TrySetResult())
                {
                    return;
                }
            }

            _inProgress--;
        }
    }

    /// <summary>One admitted call; disposing it frees the slot for the next waiter.</summary>
    public readonly struct Lease(CertifyAdmission owner) : IDisposable
    {
        public void Dispose() => owner.Release();
    }

    private sealed class Waiter(long enqueued)
    {
        public long Enqueued { get; } = enqueued;

        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public LinkedListNode<Waiter>? Node { get; set; }
    }
}
