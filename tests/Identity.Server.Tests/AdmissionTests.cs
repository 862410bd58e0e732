using Grpc.Core;
using Grpc.Net.Client;
using Identity.Protocol;
using Identity.Server.Certify;
using Identity.Server.Hosting;
using Identity.Server.Tokens;
using Microsoft.Extensions.DependencyInjection;
using IdentityGrpc = Identity.Protocol.Identity;

namespace Identity.Server.Tests;

/// <summary>
/// Admission control on a real server: a bounded number of calls in progress, a bounded queue, refusals before any
/// parsing or review, and calls that give up while queued costing nothing. The first call is held inside its token
/// review by a gate, so every state below is reached by events, not by waiting for time to pass.
/// </summary>
[Collection(nameof(MetricsTests))]
public sealed class AdmissionTests
{
    private static readonly string Web = ServerFixtures.IdentityOf("web", "emojivoto");

    [Fact]
    public async Task A_full_queue_is_refused_at_once_with_resource_exhausted_and_nothing_parsed_or_reviewed()
    {
        var gate = new GatedValidator();
        var (server, admission, first) = await HoldTheOnlySlot(gate, queue: 1);
        await using var _ = server;
        var ct = TestContext.Current.CancellationToken;
        var queued = WhenQueued(admission, 1);
        var second = server.Client.CertifyAsync(TestServer.Request(Web, "sa:emojivoto:web", TestCsr.Proxy(Web)), cancellationToken: ct).ResponseAsync;
        await queued.WaitAsync(ct);

        // Garbage that would be INVALID_ARGUMENT if it were parsed, and a token that would be reviewed.
        var refused = await Assert.ThrowsAsync<RpcException>(async () =>
            await server.Client.CertifyAsync(TestServer.Request(Web, "sa:emojivoto:web", "fake-data"u8.ToArray()), cancellationToken: ct));
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Equal("identity server is at capacity (1 certificate requests in progress, 1 queued); retry with backoff", refused.Status.Detail);
        Assert.Equal(1, gate.Calls);

        var metrics = await server.Admin.GetStringAsync("/metrics", ct);
        Assert.Matches("identity_certify_in_progress(\\{[^}]*\\})? 1", metrics);
        Assert.Matches("identity_certify_queued(\\{[^}]*\\})? 1", metrics);
        Assert.Matches("identity_certify_refused_total\\{[^}]*reason=\"capacity\"[^}]*\\} 1", metrics);
        Assert.Matches("identity_certify_requests_total\\{[^}]*grpc_code=\"ResourceExhausted\"[^}]*\\} 1", metrics);

        gate.Open();
        await first;
        await second;
        Assert.Equal(2, gate.Calls);
        Assert.Equal(2, server.IssuedCounter.Total);
        Assert.Equal(0, admission.InProgress);
        Assert.Equal(0, admission.Queued);
        Assert.Contains("identity_certify_queue_wait_seconds_count", await server.Admin.GetStringAsync("/metrics", ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_queued_call_whose_deadline_passes_costs_no_token_review_and_issues_nothing()
    {
        var gate = new GatedValidator();
        var (server, admission, first) = await HoldTheOnlySlot(gate, queue: 4);
        await using var _ = server;
        var ct = TestContext.Current.CancellationToken;

        var left = WhenQueued(admission, 0, afterQueued: true);
        var late = await Assert.ThrowsAsync<RpcException>(async () => await server.Client.CertifyAsync(
            TestServer.Request(Web, "sa:emojivoto:web", TestCsr.Proxy(Web)), deadline: DateTime.UtcNow.AddMilliseconds(300), cancellationToken: ct));
        Assert.Equal(StatusCode.DeadlineExceeded, late.StatusCode);
        await left.WaitAsync(ct);

        gate.Open();
        await first;
        Assert.Equal(1, gate.Calls);
        Assert.Equal(1, server.IssuedCounter.Total);
        var metrics = await server.Admin.GetStringAsync("/metrics", ct);
        Assert.Matches("identity_certify_refused_total\\{[^}]*reason=\"abandoned\"[^}]*\\} 1", metrics);
    }

    [Fact]
    public async Task A_call_that_would_wait_past_its_deadline_is_refused_on_arrival_with_nothing_parsed_or_reviewed()
    {
        var gate = new GatedValidator();
        var (server, admission, first) = await HoldTheOnlySlot(gate, queue: 4);
        await using var _ = server;
        var ct = TestContext.Current.CancellationToken;
        // As if calls had been finishing at one every 10 s: the next in line would wait about 10 s.
        admission.RecordThroughput(0.1);

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await server.Client.CertifyAsync(
            TestServer.Request(Web, "sa:emojivoto:web", "fake-data"u8.ToArray()), deadline: DateTime.UtcNow.AddSeconds(8), cancellationToken: ct));
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Equal("identity server would not answer before the call's deadline (0 certificate requests queued, about 10000 ms to wait); retry with backoff",
            refused.Status.Detail);
        Assert.Equal(1, gate.Calls);
        Assert.Equal(0, admission.Queued);

        // A deadline that leaves room, and no deadline at all, are queued as before.
        var queued = WhenQueued(admission, 2);
        var roomy = server.Client.CertifyAsync(TestServer.Request(Web, "sa:emojivoto:web", TestCsr.Proxy(Web)),
            deadline: DateTime.UtcNow.AddMinutes(5), cancellationToken: ct).ResponseAsync;
        var open = server.Client.CertifyAsync(TestServer.Request(Web, "sa:emojivoto:web", TestCsr.Proxy(Web)), cancellationToken: ct).ResponseAsync;
        await queued.WaitAsync(ct);
        var metrics = await server.Admin.GetStringAsync("/metrics", ct);
        Assert.Matches("identity_certify_refused_total\\{[^}]*reason=\"deadline\"[^}]*\\} 1", metrics);

        gate.Open();
        await first;
        await roomy;
        await open;
        Assert.Equal(3, server.IssuedCounter.Total);
    }

    [Fact]
    public async Task Connections_beyond_the_limit_wait_for_a_slot_before_any_http2_and_beyond_the_waiting_room_are_closed()
    {
        var gate = new GatedValidator();
        await using var server = await TestServer.StartAsync(o => o.MaxConnections = 1, services: s => s.AddSingleton<ITokenValidator>(gate));
        var ct = TestContext.Current.CancellationToken;
        var limit = server.App.Services.GetRequiredService<ConnectionLimit>();
        var address = $"http://127.0.0.1:{IdentityServerHost.GetGrpcEndpoint(server.App).Port}";
        var channels = new List<GrpcChannel>();
        Task<CertifyResponse> Call()
        {
            // A channel of its own is a connection of its own, as each restarting proxy opens one.
            var channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = new SocketsHttpHandler(), DisposeHttpClient = true });
            channels.Add(channel);
            return new IdentityGrpc.IdentityClient(channel).CertifyAsync(
                TestServer.Request(Web, "sa:emojivoto:web", TestCsr.Proxy(Web)), cancellationToken: ct).ResponseAsync;
        }

        try
        {
            var first = Call();
            await gate.Entered.Task.WaitAsync(ct);

            // The only slot is taken: the next four connections wait (four per slot), the one after is closed at once.
            var full = WhenWaiting(limit, 4);
            var waiting = Enumerable.Range(0, 4).Select(_ => Call()).ToArray();
            await full.WaitAsync(ct);
            var closed = await Assert.ThrowsAsync<RpcException>(Call);
            Assert.Equal(StatusCode.Unavailable, closed.StatusCode);
            Assert.Equal(1, gate.Calls);

            // The first proxy is answered and goes away; the longest waiting connection takes its slot and is served.
            gate.Open();
            await first;
            var next = WhenWaiting(limit, 3);
            channels[0].Dispose();
            await next.WaitAsync(ct);
            await Task.WhenAny(waiting).Unwrap().WaitAsync(ct);
            Assert.Equal(2, gate.Calls);
            Assert.Equal(2, server.IssuedCounter.Total);
        }
        finally
        {
            foreach (var channel in channels)
            {
                channel.Dispose();
            }
        }
    }

    [Fact]
    public async Task A_call_cancelled_by_its_caller_while_queued_is_dropped()
    {
        var gate = new GatedValidator();
        var (server, admission, first) = await HoldTheOnlySlot(gate, queue: 4);
        await using var _ = server;
        var ct = TestContext.Current.CancellationToken;

        using var caller = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var queued = WhenQueued(admission, 1);
        var second = server.Client.CertifyAsync(TestServer.Request(Web, "sa:emojivoto:web", TestCsr.Proxy(Web)), cancellationToken: caller.Token).ResponseAsync;
        await queued.WaitAsync(ct);
        var left = WhenQueued(admission, 0);
        await caller.CancelAsync();
        Assert.Equal(StatusCode.Cancelled, (await Assert.ThrowsAsync<RpcException>(async () => await second)).StatusCode);
        await left.WaitAsync(ct);

        gate.Open();
        await first;
        Assert.Equal(1, gate.Calls);
        Assert.Equal(1, server.IssuedCounter.Total);
    }

    [Fact]
    public void Limits_are_sized_to_the_machine_unless_set()
    {
        var defaults = new IdentityServerOptions();
        Assert.Equal(16 * Environment.ProcessorCount, defaults.EffectiveMaxConcurrentCertify);
        Assert.Equal(4096, defaults.EffectiveCertifyQueue);
        var set = new IdentityServerOptions { MaxConcurrentCertify = 3, CertifyQueue = 7 };
        Assert.Equal(3, set.EffectiveMaxConcurrentCertify);
        Assert.Equal(7, set.EffectiveCertifyQueue);
    }

    /// <summary>A server whose one slot is held by a first call waiting inside its token review.</summary>
    private static async Task<(TestServer Server, CertifyAdmission Admission, Task First)> HoldTheOnlySlot(GatedValidator gate, int queue)
    {
        var server = await Start(gate, inProgress: 1, queue);
        var ct = TestContext.Current.CancellationToken;
        var first = server.Client.CertifyAsync(TestServer.Request(Web, "sa:emojivoto:web", TestCsr.Proxy(Web)), cancellationToken: ct).ResponseAsync;
        await gate.Entered.Task.WaitAsync(ct);
        return (server, server.App.Services.GetRequiredService<CertifyAdmission>(), first);
    }

    private static Task<TestServer> Start(GatedValidator gate, int inProgress, int queue) => TestServer.StartAsync(
        o =>
        {
            o.MaxConcurrentCertify = inProgress;
            o.CertifyQueue = queue;
        },
        services: s => s.AddSingleton<ITokenValidator>(gate));

    /// <summary>Completes when <paramref name="count"/> connections wait for a slot.</summary>
    private static Task WhenWaiting(ConnectionLimit limit, int count)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Check()
        {
            if (limit.Waiting == count)
            {
                done.TrySetResult();
            }
        }

        limit.WaitingChanged += Check;
        Check();
        return done.Task;
    }

    /// <summary>Completes when the queue holds <paramref name="count"/> calls (after one was queued, when asked).</summary>
    private static Task WhenQueued(CertifyAdmission admission, int count, bool afterQueued = false)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var seen = !afterQueued;
        void Check()
        {
            var queued = admission.Queued;
            seen |= queued > 0;
            if (seen && queued == count)
            {
                done.TrySetResult();
            }
        }

        admission.QueueChanged += Check;
        Check();
        return done.Task;
    }

    /// <summary>Authenticates "sa:NS:NAME" tokens, but the first review waits until the test opens the gate.</summary>
    private sealed class GatedValidator : ITokenValidator
    {
        private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _calls;

        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Calls => Volatile.Read(ref _calls);

        public void Open() => _open.TrySetResult();

        public async ValueTask<TokenReviewResult> ReviewAsync(ReadOnlyMemory<byte> token, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            Entered.TrySetResult();
            await _open.Task.WaitAsync(cancellationToken);
            var parts = System.Text.Encoding.UTF8.GetString(token.Span).Split(':', 2);
            return TokenReviewResult.Success($"system:serviceaccount:{parts[1]}", null);
        }
    }
}
