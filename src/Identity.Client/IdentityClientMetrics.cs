using System.Diagnostics.Metrics;

namespace Identity.Client;

/// <summary>Instruments of the identity client; names are constants so dashboards do not drift.</summary>
internal sealed class IdentityClientMetrics : IDisposable
{
    /// <summary>Meter name.</summary>
    public const string MeterName = "Identity.Client";

    /// <summary>Counter of Certify attempts, tagged <c>result</c> = ok | error (the proxy's <c>refreshes{result}</c>).</summary>
    public const string RefreshesName = "identity.client.cert.refreshes";

    /// <summary>Gauge: NotAfter of the current certificate, Unix seconds.</summary>
    public const string ExpirationTimestampName = "identity.client.cert.expiration_timestamp";

    /// <summary>Gauge: when the next Certify attempt is scheduled, Unix seconds.</summary>
    public const string RefreshTimestampName = "identity.client.cert.refresh_timestamp";

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _refreshes;
    private double _expiration = double.NaN;
    private double _nextRefresh = double.NaN;

    public IdentityClientMetrics(IMeterFactory? factory)
    {
        if (factory is null)
        {
            _meter = new Meter(MeterName);
            _ownsMeter = true;
        }
        else
        {
            _meter = factory.Create(MeterName);
        }

        _refreshes = _meter.CreateCounter<long>(RefreshesName, unit: "{refresh}", description: "Certify attempts by result.");
        _meter.CreateObservableGauge(ExpirationTimestampName, ObserveExpiration, unit: "s", description: "NotAfter of the current workload certificate.");
        _meter.CreateObservableGauge(RefreshTimestampName, ObserveRefresh, unit: "s", description: "Time of the next scheduled Certify attempt.");
    }

    public void Success(DateTimeOffset notAfter)
    {
        _refreshes.Add(1, new KeyValuePair<string, object?>("result", "ok"));
        Interlocked.Exchange(ref _expiration, notAfter.ToUnixTimeMilliseconds() / 1000.0);
    }

    public void Failure() => _refreshes.Add(1, new KeyValuePair<string, object?>("result", "error"));

    public void Scheduled(DateTimeOffset at) => Interlocked.Exchange(ref _nextRefresh, at.ToUnixTimeMilliseconds() / 1000.0);

    private IEnumerable<Measurement<double>> ObserveExpiration()
    {
        var v = Volatile.Read(ref _expiration);
        return double.IsNaN(v) ? [] : [new Measurement<double>(v)];
    }

    private IEnumerable<Measurement<double>> ObserveRefresh()
    {
        var v = Volatile.Read(ref _nextRefresh);
        return double.IsNaN(v) ? [] : [new Measurement<double>(v)];
    }

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
