using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Grpc.Core;
using Identity.Protocol;
using IdentityGrpc = Identity.Protocol.Identity;

namespace Identity.Bench;

/// <summary>Where each worker's next request comes from.</summary>
internal interface IRequestSource
{
    /// <summary>The next request for <paramref name="worker"/>, or null when the source is used up.</summary>
    CertifyRequest? Next(int worker, ref int cursor);
}

/// <summary>Warm: every worker cycles through the same per-workload requests (each offset by its index).</summary>
internal sealed class CyclingSource(CertifyRequest[] requests) : IRequestSource
{
    public CertifyRequest? Next(int worker, ref int cursor) => requests[(int)((uint)(worker + cursor++) % (uint)requests.Length)];
}

/// <summary>Cold: each request is used once across all workers; the run ends early if the pool runs out.</summary>
internal sealed class OnceSource(CertifyRequest[] requests) : IRequestSource
{
    private int _next = -1;

    public bool Exhausted => Volatile.Read(ref _next) >= requests.Length;

    public CertifyRequest? Next(int worker, ref int cursor)
    {
        var index = Interlocked.Increment(ref _next);
        return index < requests.Length ? requests[index] : null;
    }
}

internal sealed record LoadResult(long[] LatencyTicks, ConcurrentDictionary<StatusCode, (int Count, string Detail)> Errors, TimeSpan Elapsed)
{
    public int ErrorCount => Errors.Values.Sum(e => e.Count);

    public double Rate => LatencyTicks.Length / Elapsed.TotalSeconds;

    public double PercentileMs(double p) => LatencyTicks.Length == 0 ? 0
        : LatencyTicks[Math.Min(LatencyTicks.Length - 1, (int)(p * LatencyTicks.Length))] * 1000.0 / Stopwatch.Frequency;

    public string Describe(double cryptoLimit)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"requests: {LatencyTicks.Length} ok, {ErrorCount} errors in {Elapsed.TotalSeconds:F1}s");
        sb.AppendLine(CultureInfo.InvariantCulture, $"throughput: {Rate:F0} Certify/s ({Rate / cryptoLimit:P0} of the crypto limit)");
        sb.AppendLine(CultureInfo.InvariantCulture,
            $"latency ms: p50={PercentileMs(0.50):F2} p90={PercentileMs(0.90):F2} p99={PercentileMs(0.99):F2} max={PercentileMs(1):F2}");
        foreach (var (code, (count, detail)) in Errors.OrderBy(e => e.Key))
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"errors {code}: {count} (first: {detail})");
        }

        return sb.ToString();
    }
}

/// <summary>Closed-loop load: <c>concurrency</c> workers, each with one Certify in flight, spread over the clients.</summary>
internal static class LoadRun
{
    public static async Task<LoadResult> RunAsync(IdentityGrpc.IdentityClient[] clients, IRequestSource source, int concurrency, TimeSpan duration)
    {
        var errors = new ConcurrentDictionary<StatusCode, (int Count, string Detail)>();
        var perWorker = new List<long>[concurrency];
        var stopwatch = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, concurrency).Select(w => Task.Run(async () =>
        {
            var client = clients[w % clients.Length];
            var latencies = perWorker[w] = new List<long>(1 << 16);
            var cursor = 0;
            while (stopwatch.Elapsed < duration && source.Next(w, ref cursor) is { } request)
            {
                var started = Stopwatch.GetTimestamp();
                try
                {
                    await client.CertifyAsync(request).ConfigureAwait(false);
                    latencies.Add(Stopwatch.GetTimestamp() - started);
                }
                catch (RpcException e)
                {
                    errors.AddOrUpdate(e.StatusCode, _ => (1, e.Status.Detail), (_, old) => (old.Count + 1, old.Detail));
                }
            }
        })).ToArray();
        await Task.WhenAll(workers).ConfigureAwait(false);
        var elapsed = stopwatch.Elapsed;
        var all = perWorker.SelectMany(l => l).ToArray();
        Array.Sort(all);
        return new LoadResult(all, errors, elapsed);
    }
}
