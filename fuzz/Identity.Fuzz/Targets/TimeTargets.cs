using System.Text;
using Identity.Pki.Time;

namespace Identity.Fuzz.Targets;

/// <summary>Go durations (<c>-issuance-lifetime</c>, <c>--not-after 8760h</c>). Contract: no exception; Format parses back to the same value.</summary>
internal sealed class GoDurationTarget : FuzzTarget
{
    public override string Name => "go-duration";

    public override string Description => "Go duration parsing and its Format round trip";

    public override void Run(ReadOnlySpan<byte> input)
    {
        var text = Encoding.UTF8.GetString(input);
        if (!GoDuration.TryParse(text, out var duration))
        {
            return;
        }

        var formatted = GoDuration.Format(duration);
        Contract.That(GoDuration.TryParse(formatted, out var again) && again == duration, $"'{text}' = {duration.Ticks} ticks formats as '{formatted}', which does not parse back");
    }
}

/// <summary>
/// step's <c>--not-before</c>/<c>--not-after</c>: an RFC 3339 time or a Go duration. Contract: no exception; a time
/// prints as RFC 3339 and parses back to the same second.
/// </summary>
internal sealed class Rfc3339Target : FuzzTarget
{
    public override string Name => "rfc3339";

    public override string Description => "RFC 3339 times and durations as --not-before/--not-after take them";

    public override void Run(ReadOnlySpan<byte> input)
    {
        var text = Encoding.UTF8.GetString(input);
        if (StepValidity.ParseTimeOrDuration(text, FuzzServer.Now) is not { } value)
        {
            return;
        }

        var printed = GoTime.Rfc3339(value);
        var again = StepValidity.ParseTimeOrDuration(printed, FuzzServer.Now);
        var second = new DateTimeOffset(value.UtcTicks - (value.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
        Contract.That(again == second, $"'{text}' prints as '{printed}', which parses to {again?.UtcTicks} not {second.UtcTicks}");
    }
}
