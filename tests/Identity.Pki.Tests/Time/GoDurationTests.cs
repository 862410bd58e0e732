using Identity.Pki.Time;

namespace Identity.Pki.Tests.Time;

/// <summary>The one Go duration implementation (step's flags, the server's Linkerd flags and its messages).</summary>
public sealed class GoDurationTests
{
    [Theory]
    [InlineData("24h0m0s", 86_400.0)]
    [InlineData("20s", 20.0)]
    [InlineData("1.5h", 5_400.0)]
    [InlineData("1h30m", 5_400.0)]
    [InlineData("-1s", -1.0)]
    public void Linkerd_chart_values_parse(string text, double seconds)
    {
        Assert.True(GoDuration.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromSeconds(seconds), value);
    }

    [Theory]
    [InlineData("24", false)]
    [InlineData("1h 2m", false)]
    [InlineData("5.s", true)]
    public void Edge_syntax_follows_go(string text, bool valid) => Assert.Equal(valid, GoDuration.TryParse(text, out _));

    // Expected strings are what Go's time.Duration.String prints for the same values.
    [Theory]
    [InlineData(0L, "0s")]
    [InlineData(864_000_000_000L, "24h0m0s")]
    [InlineData(900_000_000L, "1m30s")]
    [InlineData(15_000_000L, "1.5s")]
    [InlineData(3_000_000L, "300ms")]
    [InlineData(15L, "1.5µs")]
    [InlineData(1L, "100ns")]
    [InlineData(-10_000_000L, "-1s")]
    [InlineData(36_005_000_000L, "1h0m0.5s")]
    [InlineData(315_360_000_000_000L, "8760h0m0s")]
    public void Format_matches_go_duration_string(long ticks, string expected) =>
        Assert.Equal(expected, GoDuration.Format(TimeSpan.FromTicks(ticks)));

    [Theory]
    [InlineData("24h0m0s")]
    [InlineData("1h2m3.004005s")]
    [InlineData("-20s")]
    [InlineData("250ms")]
    public void Format_round_trips_through_parse(string text)
    {
        Assert.True(GoDuration.TryParse(text, out var value));
        Assert.Equal(text, GoDuration.Format(value));
    }

    [Fact]
    public void Format_handles_the_extremes() =>
        Assert.StartsWith("-256204778h", GoDuration.Format(TimeSpan.MinValue), StringComparison.Ordinal);
}
