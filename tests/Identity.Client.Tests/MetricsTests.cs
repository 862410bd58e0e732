using System.Diagnostics.Metrics;
using Grpc.Core;
using Identity.Client.Tests.Support;

namespace Identity.Client.Tests;

public sealed class MetricsTests
{
    private sealed class TestMeterFactory : IMeterFactory
    {
        private readonly List<Meter> _meters = [];

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options.Name, options.Version, options.Tags, scope: this);
            _meters.Add(meter);
            return meter;
        }

        public void Dispose() => _meters.ForEach(m => m.Dispose());
    }

    [Fact]
    public async Task Refreshes_and_expiry_are_reported()
    {
        await using var h = await Harness.StartAsync();
        using var factory = new TestMeterFactory();
        var client = new IdentityClient(h.Options(), h.Time, logger: null, meterFactory: factory, random: null);
        using var metrics = new MetricRecorder(factory);

        var creds = await client.CertifyAsync(TestContext.Current.CancellationToken);
        h.Server.Behavior = (_, _) => throw new RpcException(new Status(StatusCode.Unavailable, "down"));
        await Assert.ThrowsAsync<CertifyException>(() => client.CertifyAsync(TestContext.Current.CancellationToken));
        metrics.RecordObservableInstruments();

        Assert.Equal(1, metrics.Sum("identity.client.cert.refreshes", "result", "ok"));
        Assert.Equal(1, metrics.Sum("identity.client.cert.refreshes", "result", "error"));
        Assert.Equal(creds.NotAfter.ToUnixTimeSeconds(), metrics.Last("identity.client.cert.expiration_timestamp"));
        await client.DisposeAsync();
    }
}
