using System.Diagnostics.Metrics;

namespace Identity.Testing;

/// <summary>One measurement as an instrument reported it.</summary>
internal sealed record RecordedMeasurement(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags);

/// <summary>
/// Records the measurements of meters made by one <see cref="IMeterFactory"/> (optionally one meter name, one
/// instrument): meters from other factories, such as other servers in parallel tests, are not seen.
/// </summary>
internal sealed class MetricRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly List<RecordedMeasurement> _measurements = [];
    private readonly Lock _lock = new();

    public MetricRecorder(IMeterFactory factory, string? meterName = null, string? instrumentName = null)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, factory)
                && (meterName is null || instrument.Meter.Name == meterName)
                && (instrumentName is null || instrument.Name == instrumentName))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.Start();
    }

    public IReadOnlyList<RecordedMeasurement> Measurements
    {
        get
        {
            lock (_lock)
            {
                return _measurements.ToList();
            }
        }
    }

    /// <summary>The sum of everything recorded (a counter's total when one instrument is listened to).</summary>
    public long Total => (long)Measurements.Sum(m => m.Value);

    /// <summary>The sum of one instrument's measurements, optionally only those with a given tag value.</summary>
    public long Sum(string instrument, string? tag = null, string? tagValue = null) =>
        (long)Measurements
            .Where(m => m.Instrument == instrument
                && (tag is null || (m.Tags.TryGetValue(tag, out var value) && value?.ToString() == tagValue)))
            .Sum(m => m.Value);

    /// <summary>An instrument's last measurement (a gauge's current value), or null if it reported none.</summary>
    public double? Last(string instrument) => Measurements.LastOrDefault(m => m.Instrument == instrument)?.Value;

    /// <summary>Makes observable instruments (gauges) report now.</summary>
    public void RecordObservableInstruments() => _listener.RecordObservableInstruments();

    public void Dispose() => _listener.Dispose();

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var tag in tags)
        {
            copy[tag.Key] = tag.Value;
        }

        lock (_lock)
        {
            _measurements.Add(new RecordedMeasurement(instrument.Name, value, copy));
        }
    }
}
