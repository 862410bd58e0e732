using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Grpc.Core;
using Identity.Protocol;
using IdentityGrpc = Identity.Protocol.Identity;

namespace Identity.Bench;

/// <summary>Command line of <c>--storm</c>; see <see cref="Usage"/>.</summary>
internal sealed record StormSettings(
    string Scenario,
    string Serve,
    int Proxies,
    int Connections,
    TimeSpan Retry,
    TimeSpan Deadline,
    int MemoryMiB,
    TimeSpan GiveUp,
    TimeSpan Steady,
    IReadOnlyList<string> ServeArgs)
{
    public const string Usage = """
        usage:
          Identity.Bench --storm fleet|no-backoff --serve PATH [--proxies 20000] [--connections 64] [--retry 10]
                         [--deadline 10] [--memory-mib 256] [--give-up 120] [--steady 5] [--serve-arg ARG]...
        PATH is the `identity` binary to start (native, or identity.dll run with dotnet). fleet: every proxy retries
        --retry seconds after a failed call; no-backoff: at once. --connections 0: every call on a new connection,
        closed after it, as linkerd2-proxy's identity client does; N: the proxies multiplexed over N connections.
        """;

    public static StormSettings? Parse(string[] args)
    {
        string? scenario = null, serve = null;
        int proxies = 20_000, connections = 64, memory = 256;
        double retry = 10, deadline = 10, giveUp = 120, steady = 5;
        var serveArgs = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : "";
            bool Int(out int value) => int.TryParse(Next(), NumberStyles.Integer, CultureInfo.InvariantCulture, out value);
            bool Seconds(out double value) => double.TryParse(Next(), NumberStyles.Float, CultureInfo.InvariantCulture, out value);
            switch (args[i])
            {
                case "--storm": scenario = Next(); break;
                case "--serve": serve = Next(); break;
                case "--serve-arg": serveArgs.Add(Next()); break;
                case "--proxies": if (!Int(out proxies)) { return null; } break;
                case "--connections": if (!Int(out connections)) { return null; } break;
                case "--memory-mib": if (!Int(out memory)) { return null; } break;
                case "--retry": if (!Seconds(out retry)) { return null; } break;
                case "--deadline": if (!Seconds(out deadline)) { return null; } break;
                case "--give-up": if (!Seconds(out giveUp)) { return null; } break;
                case "--steady": if (!Seconds(out steady)) { return null; } break;
                default: return null;
            }
        }

        if (scenario is not ("fleet" or "no-backoff") || serve is null || proxies < 1 || connections < 0 || memory < 16
            || retry < 0 || deadline <= 0 || giveUp <= 0 || steady <= 0)
        {
            return null;
        }

        return new StormSettings(scenario, serve, proxies, connections, TimeSpan.FromSeconds(scenario == "fleet" ? retry : 0),
            TimeSpan.FromSeconds(deadline), memory, TimeSpan.FromSeconds(giveUp), TimeSpan.FromSeconds(steady), serveArgs);
    }
}

/// <summary>
/// A restart storm against a real <c>identity serve</c> process in a memory limit: N proxies, each with its own new
/// key, CSR and ServiceAccount token, all calling Certify at once, retrying after a failure (fleet) or at once
/// (no-backoff), each call with a deadline. Before the storm, the same server's steady cold throughput is measured.
/// </summary>
internal static class Storm
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static async Task<int> RunAsync(StormSettings settings)
    {
        Console.WriteLine(string.Create(Invariant,
            $"storm={settings.Scenario} proxies={settings.Proxies} connections={(settings.Connections == 0 ? "one per call" : settings.Connections)} retry={settings.Retry.TotalSeconds}s deadline={settings.Deadline.TotalSeconds}s serve={settings.Serve}"));
        var crypto = CryptoLimit.Measure(TimeSpan.FromSeconds(3));
        Console.WriteLine(CryptoLimit.Describe(crypto));

        var dir = Directory.CreateTempSubdirectory("identity-storm-").FullName;
        using var limit = MemoryLimit.Create(settings.MemoryMiB);
        Console.WriteLine($"memory limit: {limit.Description}");
        Process? server = null;
        var log = new ServerLog();
        try
        {
            var pki = await BenchPki.WriteAsync(dir).ConfigureAwait(false);
            using var tokens = pki.OpenTokenIssuer();
            var minter = new TokenMinter(tokens);
            var generation = Stopwatch.StartNew();
            var steadyPool = Workloads.Cold(20_000, 20_000, minter);
            var fleet = Workloads.Cold(settings.Proxies, settings.Proxies, minter);
            Console.WriteLine(string.Create(Invariant,
                $"pre-generated {steadyPool.Length + fleet.Length} fresh keys, CSRs and tokens in {generation.Elapsed.TotalSeconds:F1}s (not measured)"));

            var (grpcPort, adminPort) = (FreePort(), FreePort());
            server = StartServer(settings, pki, limit, grpcPort, adminPort, log);
            var ready = await WaitReadyAsync(server, adminPort).ConfigureAwait(false);
            if (ready is null)
            {
                Console.WriteLine("the server never became ready; its last lines:");
                log.PrintTail();
                return 2;
            }

            Console.WriteLine(string.Create(Invariant, $"server pid {server.Id} ready after {ready.Value.TotalMilliseconds:F0} ms; RSS {Rss(server.Id)}"));
            var address = $"http://127.0.0.1:{grpcPort}";
            using var connections = new Connections(address, Math.Max(4, settings.Connections));
            var clients = connections.Clients;

            // Steady cold throughput of this server now: the yardstick for the storm's goodput.
            var steadyCpu = ProcStatus.CpuSeconds(server.Id.ToString(Invariant));
            var steady = await LoadRun.RunAsync(clients.Take(4).ToArray(), new OnceSource(steadyPool), 32, settings.Steady).ConfigureAwait(false);
            var steadyUsed = ProcStatus.CpuSeconds(server.Id.ToString(Invariant)) - steadyCpu;
            Console.WriteLine(string.Create(Invariant,
                $"steady cold: {steady.Rate:F0} Certify/s over {steady.Elapsed.TotalSeconds:F1}s, 32 streams on 4 connections, {steady.ErrorCount} errors, p99 {steady.PercentileMs(0.99):F1} ms, server cpu {steadyUsed * 1e6 / Math.Max(1, steady.LatencyTicks.Length + steady.ErrorCount):F0} us/request"));

            var serverCpu = ProcStatus.CpuSeconds(server.Id.ToString(Invariant));
            var clientCpu = ProcStatus.CpuSeconds("self");
            var result = await StormAsync(settings, settings.Connections == 0 ? null : clients, address, fleet).ConfigureAwait(false);
            var serverUsed = ProcStatus.CpuSeconds(server.Id.ToString(Invariant)) - serverCpu;
            var clientUsed = ProcStatus.CpuSeconds("self") - clientCpu;
            var alive = !server.HasExited && await WaitReadyAsync(server, adminPort, TimeSpan.FromSeconds(2)).ConfigureAwait(false) is not null;
            result.Print(settings, steady.Rate);
            Console.WriteLine(string.Create(Invariant,
                $"cpu: server {serverUsed * 1e6 / Math.Max(1, result.Certified):F0} us per certified proxy ({serverUsed:F2} s), load generator {clientUsed * 1e6 / Math.Max(1, result.Attempts):F0} us per attempt ({clientUsed:F2} s)"));
            Console.WriteLine(string.Create(Invariant,
                $"memory: server peak RSS (VmHWM) {PeakRss(server)}, cgroup peak {(limit.PeakMiB() is { } peak ? peak.ToString("F0", Invariant) + " MiB" : "n/a")}, OOM kills {limit.OomKills()?.ToString(Invariant) ?? "n/a"}"));
            await PrintServerMetricsAsync(adminPort).ConfigureAwait(false);
            Console.WriteLine(alive ? "server: stayed up (ready after the storm)" : $"server: DOWN (exit code {(server.HasExited ? server.ExitCode.ToString(Invariant) : "none, not ready")})");
            if (!alive)
            {
                log.PrintTail();
            }

            Console.WriteLine($"loadavg after: {ProcStatus.LoadAverage()}");
            return alive && result.Certified == settings.Proxies ? 0 : 2;
        }
        finally
        {
            if (server is { HasExited: false })
            {
                server.Kill(entireProcessTree: true);
                await server.WaitForExitAsync().ConfigureAwait(false);
            }

            server?.Dispose();
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<StormResult> StormAsync(StormSettings settings, IdentityGrpc.IdentityClient[]? clients, string address, CertifyRequest[] fleet)
    {
        var result = new StormResult();
        var clock = Stopwatch.StartNew();
        async Task Proxy(int i)
        {
            // Yield first so all proxies start together rather than in the order this loop reaches them.
            await Task.Yield();
            while (clock.Elapsed < settings.GiveUp)
            {
                result.Attempted();
                var started = Stopwatch.GetTimestamp();
                // Without shared clients, each call dials its own connection and closes it after.
                using var own = clients is null ? Connections.Open(address) : null;
                var client = clients?[i % clients.Length] ?? new IdentityGrpc.IdentityClient(own!);
                try
                {
                    await client.CertifyAsync(fleet[i], deadline: DateTime.UtcNow + settings.Deadline).ConfigureAwait(false);
                    result.CertifiedAt.Add(clock.Elapsed);
                    return;
                }
                catch (RpcException e)
                {
                    result.Failures.AddOrUpdate(e.StatusCode, _ => (1, e.Status.Detail), (_, old) => (old.Count + 1, old.Detail));
                    if (e.StatusCode != StatusCode.DeadlineExceeded)
                    {
                        result.RefusalTicks.Add(Stopwatch.GetTimestamp() - started);
                    }
                }

                if (settings.Retry > TimeSpan.Zero)
                {
                    await Task.Delay(settings.Retry).ConfigureAwait(false);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, fleet.Length).Select(Proxy)).ConfigureAwait(false);
        result.Elapsed = clock.Elapsed;
        return result;
    }

    private static Process StartServer(StormSettings settings, BenchPki pki, MemoryLimit limit, int grpcPort, int adminPort, ServerLog log)
    {
        var dll = settings.Serve.EndsWith(".dll", StringComparison.Ordinal);
        var start = new ProcessStartInfo(dll ? "dotnet" : settings.Serve)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (dll)
        {
            start.ArgumentList.Add(settings.Serve);
        }

        foreach (var argument in new[]
        {
            "serve", "-addr", $"127.0.0.1:{grpcPort}", "-admin-addr", $"127.0.0.1:{adminPort}",
            "-controller-namespace", "linkerd", "-identity-trust-domain", "cluster.local",
            "-issuer", pki.IssuerDirectory, "-identity-trust-anchors-file", pki.TrustAnchorsFile,
            "-token-validation", "jwks", "-jwks", pki.JwksFile, "-token-issuer", BenchSettings.DefaultTokenIssuer,
        }.Concat(settings.ServeArgs))
        {
            start.ArgumentList.Add(argument);
        }

        // The server logs as deployed (the audit line per certificate at info); the bench reads the lines and
        // keeps only the last ones, so no file's page cache is charged to the server's memory cgroup.
        var process = limit.Start(start);
        process.OutputDataReceived += (_, e) => log.Add(e.Data);
        process.ErrorDataReceived += (_, e) => log.Add(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task<TimeSpan?> WaitReadyAsync(Process server, int adminPort, TimeSpan? within = null)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < (within ?? TimeSpan.FromSeconds(30)) && !server.HasExited)
        {
            try
            {
                using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{adminPort}/ready")).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return clock.Elapsed;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Too busy to answer within the second.
            }

            await Task.Delay(10).ConfigureAwait(false);
        }

        return null;
    }

    // The server's own account of the storm: what admission control did and how calls ended.
    private static async Task PrintServerMetricsAsync(int adminPort)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            var text = await http.GetStringAsync(new Uri($"http://127.0.0.1:{adminPort}/metrics")).ConfigureAwait(false);
            foreach (var line in text.Split('\n'))
            {
                if (line.StartsWith("identity_certify_refused_total", StringComparison.Ordinal)
                    || line.StartsWith("identity_certify_requests_total", StringComparison.Ordinal)
                    || line.StartsWith("identity_certify_queue_wait_seconds_count", StringComparison.Ordinal)
                    || line.StartsWith("identity_certify_queue_wait_seconds_sum", StringComparison.Ordinal))
                {
                    Console.WriteLine("server metric: " + line);
                }
            }
        }
        catch (HttpRequestException e)
        {
            Console.WriteLine($"server metrics: unavailable ({e.Message})");
        }
        catch (TaskCanceledException)
        {
            Console.WriteLine("server metrics: no answer within 5 s");
        }
    }

    private static int FreePort()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        return ((System.Net.IPEndPoint)listener.LocalEndPoint!).Port;
    }

    private static string Rss(int pid) =>
        ProcStatus.Memory(pid.ToString(Invariant)) is { } m ? string.Create(Invariant, $"{m.CurrentMiB:F0} MiB") : "n/a";

    private static string PeakRss(Process server) =>
        !server.HasExited && ProcStatus.Memory(server.Id.ToString(Invariant)) is { } m ? string.Create(Invariant, $"{m.PeakMiB:F0} MiB") : "n/a (exited)";

    /// <summary>The last lines the server printed, for a post-mortem, and how many it printed.</summary>
    private sealed class ServerLog
    {
        private readonly ConcurrentQueue<string> _tail = new();
        private long _lines;

        public void Add(string? line)
        {
            if (line is null)
            {
                return;
            }

            Interlocked.Increment(ref _lines);
            _tail.Enqueue(line);
            while (_tail.Count > 40 && _tail.TryDequeue(out _))
            {
            }
        }

        public void PrintTail()
        {
            Console.WriteLine(string.Create(Invariant, $"--- server output ({Interlocked.Read(ref _lines)} lines), the last {_tail.Count}:"));
            foreach (var line in _tail)
            {
                Console.WriteLine("  " + line);
            }
        }
    }
}

/// <summary>What a storm did, seen from the proxies.</summary>
internal sealed class StormResult
{
    private long _attempts;

    public long Attempts => Interlocked.Read(ref _attempts);

    public void Attempted() => Interlocked.Increment(ref _attempts);

    public ConcurrentBag<TimeSpan> CertifiedAt { get; } = [];

    public ConcurrentBag<long> RefusalTicks { get; } = [];

    public ConcurrentDictionary<StatusCode, (int Count, string Detail)> Failures { get; } = new();

    public TimeSpan Elapsed { get; set; }

    public int Certified => CertifiedAt.Count;

    public void Print(StormSettings settings, double steadyRate)
    {
        var invariant = CultureInfo.InvariantCulture;
        var done = CertifiedAt.OrderBy(t => t).ToArray();
        var all = done.Length == settings.Proxies ? done[^1] : (TimeSpan?)null;
        Console.WriteLine(string.Create(invariant,
            $"certified: {done.Length} of {settings.Proxies}; the whole fleet {(all is { } t ? $"in {t.TotalSeconds:F2} s" : $"NOT within {Elapsed.TotalSeconds:F0} s")}; half by {(done.Length > 0 ? done[done.Length / 2].TotalSeconds : 0):F2} s"));
        if (all is { } whole)
        {
            var goodput = settings.Proxies / whole.TotalSeconds;
            Console.WriteLine(string.Create(invariant, $"goodput: {goodput:F0} certified/s = {goodput / steadyRate:P0} of the steady cold rate {steadyRate:F0}/s"));
        }

        Console.WriteLine(string.Create(invariant, $"attempts: {Attempts} ({Attempts / (double)settings.Proxies:F2} per proxy)"));
        var deadlineMisses = Failures.TryGetValue(StatusCode.DeadlineExceeded, out var missed) ? missed.Count : 0;
        Console.WriteLine(string.Create(invariant, $"deadline misses: {deadlineMisses}"));
        foreach (var (code, (count, detail)) in Failures.OrderBy(f => f.Key))
        {
            Console.WriteLine(string.Create(invariant, $"failures {code}: {count} (first: {detail})"));
        }

        var refusals = RefusalTicks.Order().ToArray();
        if (refusals.Length > 0)
        {
            double Ms(double p) => refusals[Math.Min(refusals.Length - 1, (int)(p * refusals.Length))] * 1000.0 / Stopwatch.Frequency;
            Console.WriteLine(string.Create(invariant, $"time to a refusal ms: p50={Ms(0.5):F1} p99={Ms(0.99):F1} max={Ms(1):F1}"));
        }
    }
}
