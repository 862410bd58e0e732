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
        var counts = new Dictionary<string, long>();
        var gauges = new Dictionary<string, double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Scope == factory)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var result = tags.ToArray().Single(t => t.Key == "result").Value!.ToString()!;
            lock (counts)
            {
                counts[instrument.Name + ":" + result] = counts.GetValueOrDefault(instrument.Name + ":" + result) + value;
            }
        });
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) => gauges[instrument.Name] = value);
        listener.Start();

        var creds = await client.CertifyAsync(TestContext.Current.CancellationToken);
        h.Server.Behavior = (_, _) => throw new RpcException(new Status(StatusCode.Unavailable, "down"));
        await Assert.ThrowsAsync<CertifyException>(() => client.CertifyAsync(TestContext.Current.CancellationToken));
        listener.RecordObservableInstruments();

        Assert.Equal(1, counts["identity.client.cert.refreshes:ok"]);
        Assert.Equal(1, counts["identity.client.cert.refreshes:error"]);
        Assert.Equal(creds.NotAfter.ToUnixTimeSeconds(), gauges["identity.client.cert.expiration_timestamp"]);
        await client.DisposeAsync();
    }
}
