using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Identity.Kubernetes.Tests;

public sealed class KubernetesEventSinkTests : IAsyncLifetime
{
    private FakeKubernetesApi _api = null!;

    public async ValueTask InitializeAsync() => _api = await FakeKubernetesApi.StartAsync(TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync() => await _api.DisposeAsync();

    private KubernetesEventSink Create(int capacity = 256, TimeProvider? time = null, System.Diagnostics.Metrics.IMeterFactory? meters = null) =>
        new(_api.CreateClient(),
            new KubernetesEventOptions { Namespace = "linkerd", QueueCapacity = capacity },
            time ?? TimeProvider.System,
            meters ?? TestSupport.MeterFactory(),
            NullLogger<KubernetesEventSink>.Instance);

    private static string? Str(JsonNode? node) => node?.GetValue<string>();

    [Fact]
    public async Task Issuer_events_are_attached_to_the_identity_deployment_with_linkerds_wording()
    {
        await using (var sink = Create())
        {
            sink.IssuerUpdated();
            sink.IssuerUpdateSkipped("failed to verify issuer credentials");
            sink.IssuerValidationFailed("x509: certificate has expired or is not yet valid", "web.emojivoto.serviceaccount.identity.linkerd.cluster.local");
            await _api.WaitForEventsAsync(3, TestContext.Current.CancellationToken);
        }

        var events = _api.Events.ToArray();
        Assert.All(events, e =>
        {
            Assert.Equal("linkerd", e.Namespace);
            var involved = e.Event["involvedObject"]!;
            Assert.Equal("Deployment", Str(involved["kind"]));
            Assert.Equal("apps/v1", Str(involved["apiVersion"]));
            Assert.Equal("linkerd-identity", Str(involved["name"]));
            Assert.Equal("linkerd", Str(involved["namespace"]));
            Assert.Equal("linkerd-identity", Str(e.Event["source"]!["component"]));
            Assert.Equal("linkerd", Str(e.Event["metadata"]!["namespace"]));
            Assert.StartsWith("linkerd-identity.", Str(e.Event["metadata"]!["name"]), StringComparison.Ordinal);
        });
        Assert.Equal(
            [
                ("IssuerUpdated", "Normal", "Updated identity issuer"),
                ("IssuerUpdateSkipped", "Warning", "Skipping issuer update as certs could not be read from disk: failed to verify issuer credentials"),
                ("IssuerValidationFailed", "Warning", "x509: certificate has expired or is not yet valid - CSR Identity : web.emojivoto.serviceaccount.identity.linkerd.cluster.local"),
            ],
            events.Select(e => (Str(e.Event["reason"]), Str(e.Event["type"]), Str(e.Event["message"]))).ToArray());
        Assert.Equal(3, events.Select(e => Str(e.Event["metadata"]!["name"])).Distinct().Count());
    }

    [Fact]
    public async Task Issued_leaf_certificate_is_posted_on_the_service_account()
    {
        await using (var sink = Create())
        {
            sink.IssuedLeafCertificate("emojivoto", "web", "issued certificate for web.emojivoto.serviceaccount.identity.linkerd.cluster.local until 2030-01-02");
            await _api.WaitForEventsAsync(1, TestContext.Current.CancellationToken);
        }

        var (ns, e) = Assert.Single(_api.Events);
        Assert.Equal("emojivoto", ns);
        Assert.Equal("ServiceAccount", Str(e["involvedObject"]!["kind"]));
        Assert.Equal("web", Str(e["involvedObject"]!["name"]));
        Assert.Equal("emojivoto", Str(e["involvedObject"]!["namespace"]));
        Assert.Equal("IssuedLeafCertificate", Str(e["reason"]));
        Assert.Equal("Normal", Str(e["type"]));
    }

    [Fact]
    public async Task Posting_never_blocks_the_caller_and_overflow_is_dropped_and_counted()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _api.OnEvent = async (body, aborted) =>
        {
            await gate.Task.WaitAsync(aborted);
            return Results.Json(body, statusCode: 201);
        };
        var meters = TestSupport.MeterFactory();
        using var dropped = new MetricRecorder(meters, KubernetesMetrics.MeterName, KubernetesMetrics.EventsDropped);
        await using var sink = Create(capacity: 4, meters: meters);

        sink.IssuerUpdated();
        await _api.WaitForEventsAsync(1, TestContext.Current.CancellationToken); // the loop is now stuck on the API
        for (var i = 0; i < 100; i++)
        {
            sink.IssuedLeafCertificate("ns", "sa" + i, "issued");
        }

        Assert.Equal(96, dropped.Total);
        gate.SetResult();
        await _api.WaitForEventsAsync(5, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Api_failures_are_logged_and_later_events_still_go_out()
    {
        var failures = 1;
        _api.OnEvent = (body, _) => Task.FromResult(Interlocked.Decrement(ref failures) >= 0
            ? FakeKubernetesApi.Status(403, "Forbidden", "events is forbidden")
            : Results.Json(body, statusCode: 201));
        var meters = TestSupport.MeterFactory();
        using var dropped = new MetricRecorder(meters, KubernetesMetrics.MeterName, KubernetesMetrics.EventsDropped);
        await using (var sink = Create(meters: meters))
        {
            sink.IssuerUpdated();
            sink.IssuerUpdated();
            await _api.WaitForEventsAsync(2, TestContext.Current.CancellationToken);
        }

        Assert.Equal(1, dropped.Total);
    }

    [Fact]
    public async Task Stuck_post_times_out_by_the_time_provider()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        _api.OnEvent = async (_, aborted) =>
        {
            await Task.Delay(Timeout.Infinite, aborted);
            return Results.StatusCode(500);
        };
        var meters = TestSupport.MeterFactory();
        using var dropped = new MetricRecorder(meters, KubernetesMetrics.MeterName, KubernetesMetrics.EventsDropped);
        var sink = Create(time: time, meters: meters);
        sink.IssuerUpdated();
        await _api.WaitForEventsAsync(1, TestContext.Current.CancellationToken);

        time.Advance(TimeSpan.FromSeconds(10));
        var disposing = sink.DisposeAsync().AsTask();
        await disposing.WaitAsync(TestContext.Current.CancellationToken);

        Assert.Equal(1, dropped.Total);
    }
}
