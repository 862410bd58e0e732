using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;
using Identity.Bench;
using Identity.Cli.Demo;
using Identity.Kubernetes;

if (args.Contains("--storm"))
{
    if (StormSettings.Parse(args) is not { } storm)
    {
        Console.Error.WriteLine(StormSettings.Usage);
        return 1;
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{DateTimeOffset.UtcNow:u} cores={Environment.ProcessorCount} loadavg={ProcStatus.LoadAverage()}"));
    return await Storm.RunAsync(storm);
}

var settings = BenchSettings.Parse(args);
if (settings is null)
{
    Console.Error.WriteLine(BenchSettings.Usage);
    return 1;
}

var invariant = CultureInfo.InvariantCulture;
Console.WriteLine(string.Create(invariant,
    $"{DateTimeOffset.UtcNow:u} cores={Environment.ProcessorCount} gc={(GCSettings.IsServerGC ? "server" : "workstation")} loadavg={ProcStatus.LoadAverage()}"));

if (settings.ServerOnly)
{
    return await ServerOnly(settings);
}

Console.WriteLine(string.Create(invariant,
    $"tokens={(settings.Tokens == TokenMode.Jwks ? "jwks" : "accept-all")} {(settings.Cold ? "cold" : "warm")} workloads={settings.Workloads} concurrency={settings.Concurrency} connections={settings.Connections} duration={settings.Duration.TotalSeconds}s warmup={settings.Warmup.TotalSeconds}s"));

// Measured in the same run, before any load, so the throughput can be read against this machine's ceiling now.
var crypto = CryptoLimit.Measure(TimeSpan.FromSeconds(3));
Console.WriteLine(CryptoLimit.Describe(crypto));
if (settings.Breakdown)
{
    Console.WriteLine("single-thread cost per step of a cold Certify (before any load):");
    await Breakdown.PrintAsync(2000);
}

SelfHost? host = null;
ServiceAccountTokenIssuer? remoteTokens = null;
var target = settings.Target;
try
{
    TokenMinter minter;
    if (settings.SelfHost)
    {
        host = await SelfHost.StartAsync(settings.Tokens, settings.AuditLog);
        target = host.Address;
        minter = new TokenMinter(host.Tokens);
        Console.WriteLine($"self-hosted server on {target}, token validator {host.ValidatorDescription} (client shares the process)");
    }
    else if (settings.Tokens == TokenMode.Jwks)
    {
        if (!File.Exists(settings.TokenKey))
        {
            Console.Error.WriteLine($"token key file '{settings.TokenKey}' does not exist (use the path --server-only printed)");
            return 1;
        }

        remoteTokens = ServiceAccountTokenIssuer.LoadOrCreate(settings.TokenIssuer!, settings.TokenKey!);
        minter = new TokenMinter(remoteTokens);
    }
    else
    {
        minter = new TokenMinter(null);
    }

    // One channel per connection, as separate proxies would each hold their own; workers are spread over them.
    using var connections = new Connections(target!, settings.Connections);
    var clients = connections.Clients;
    IRequestSource source, warmupSource;
    OnceSource? pool = null;
    var generation = System.Diagnostics.Stopwatch.StartNew();
    if (settings.Cold)
    {
        // Keys, CSRs and tokens are made on all cores before the timed window, so none of that is measured;
        // the warm-up gets its own fresh ones so nothing measured was seen by the server before.
        pool = new OnceSource(Workloads.Cold(settings.ColdPool, settings.Workloads, minter));
        source = pool;
        warmupSource = new OnceSource(Workloads.Cold(Math.Max(settings.Concurrency, (int)(settings.Warmup.TotalSeconds * 1000)), settings.Workloads, minter));
        Console.WriteLine(string.Create(invariant, $"pre-generated {settings.ColdPool} fresh keys, CSRs and tokens in {generation.Elapsed.TotalSeconds:F1}s (not measured)"));
    }
    else
    {
        var requests = Workloads.Warm(settings.Workloads, minter);
        source = warmupSource = new CyclingSource(requests);
        // Every workload certifies once, as a proxy fleet does at start: fills the server's CSR and token caches.
        foreach (var request in requests)
        {
            try
            {
                await clients[0].CertifyAsync(request);
            }
            catch (Grpc.Core.RpcException e)
            {
                // A setup problem (wrong token key, server not ready): every request would fail the same way.
                Console.Error.WriteLine($"first Certify for {request.Identity} failed: {e.StatusCode}: {e.Status.Detail}");
                return 2;
            }
        }
    }

    if (settings.Warmup > TimeSpan.Zero)
    {
        var warm = await LoadRun.RunAsync(clients, warmupSource, settings.Concurrency, settings.Warmup);
        Console.WriteLine(string.Create(invariant, $"warm-up: {warm.LatencyTicks.Length} ok, {warm.ErrorCount} errors (not measured)"));
    }

    var loadBefore = ProcStatus.LoadAverage();
    var serverPid = settings.ServerPid?.ToString(invariant);
    var selfCpu = ProcStatus.CpuSeconds("self");
    var serverCpu = serverPid is null ? null : ProcStatus.CpuSeconds(serverPid);
    var result = await LoadRun.RunAsync(clients, source, settings.Concurrency, settings.Duration);
    Console.Write(result.Describe(crypto));
    var requestsDone = Math.Max(1, result.LatencyTicks.Length + result.ErrorCount);
    // CPU time per request is far less sensitive to other load on the machine than the rate is.
    if (ProcStatus.CpuSeconds("self") - selfCpu is { } usedSelf)
    {
        Console.WriteLine(string.Create(invariant,
            $"cpu: {(host is null ? "client" : "server + client")} process {usedSelf * 1e6 / requestsDone:F0} us/request ({usedSelf / result.Elapsed.TotalSeconds:F2} cores)"));
    }

    if (serverPid is not null && ProcStatus.CpuSeconds(serverPid) - serverCpu is { } usedServer)
    {
        Console.WriteLine(string.Create(invariant,
            $"cpu: server process {usedServer * 1e6 / requestsDone:F0} us/request ({usedServer / result.Elapsed.TotalSeconds:F2} cores)"));
    }

    if (pool is { Exhausted: true })
    {
        Console.WriteLine("note: the cold pool ran out before the duration ended; the rate is over the time it lasted");
    }

    Console.WriteLine($"loadavg before/after: {loadBefore} / {ProcStatus.LoadAverage()}");
    PrintMemory("bench process (server + client)", "self", host is not null);
    if (settings.ServerPid is { } pid)
    {
        PrintMemory($"server process {pid}", pid.ToString(invariant), true);
    }

    return result.ErrorCount == 0 ? 0 : 2;
}
finally
{
    remoteTokens?.Dispose();
    if (host is not null)
    {
        await host.DisposeAsync();
    }
}

static void PrintMemory(string what, string pid, bool print)
{
    if (print && ProcStatus.Memory(pid) is { } memory)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{what}: peak RSS (VmHWM) {memory.PeakMiB:F0} MiB, RSS now {memory.CurrentMiB:F0} MiB"));
    }
}

// Just the server, so a client in another process can load it and its own memory can be read alone.
static async Task<int> ServerOnly(BenchSettings settings)
{
    await using var host = await SelfHost.StartAsync(settings.Tokens, settings.AuditLog);
    var pid = Environment.ProcessId;
    Console.WriteLine($"server-only: endpoint {host.Address} pid {pid} token validator {host.ValidatorDescription}");
    var tokenArgs = host.TokenKeyFile is { } key
        ? $"--token-key {key} --token-issuer {BenchSettings.DefaultTokenIssuer}"
        : "--accept-all";
    Console.WriteLine($"client: dotnet bench/Identity.Bench/bin/Release/net10.0/Identity.Bench.dll --target {host.Address} {tokenArgs} --server-pid {pid}");
    Console.WriteLine("Ctrl+C (SIGINT) or SIGTERM stops the server and prints its peak RSS.");

    var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.TrySetResult(); });
    using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.TrySetResult(); });
    await stop.Task;
    PrintMemory("server process", "self", true);
    return 0;
}
