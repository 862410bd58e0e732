using Identity.Pki.Certificates;
using Identity.Pki.Time;
using Microsoft.Extensions.Time.Testing;

namespace Identity.Pki.Tests.Time;

public sealed class StepValidityTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 10, 50, 50, 123, TimeSpan.Zero);
    private static readonly DateTimeOffset NowSeconds = new(2026, 11, 26, 10, 50, 50, TimeSpan.Zero);

    [Theory]
    [InlineData("8760h", 8760 * 3600_000_000_0L)]
    [InlineData("-1.5h", -(90 * 60 * 10_000_000L))]
    [InlineData("2h45m", (165 * 60) * 10_000_000L)]
    [InlineData("300ms", 3_000_000L)]
    [InlineData("1h2m3s4ms5us6ns", 37_230_040_050L)]
    [InlineData("1.5µs", 15L)]
    [InlineData("+10s", 100_000_000L)]
    [InlineData("0", 0L)]
    [InlineData(".5s", 5_000_000L)]
    public void Go_durations_parse(string text, long ticks)
    {
        Assert.True(GoDuration.TryParse(text, out var duration));
        Assert.Equal(TimeSpan.FromTicks(ticks), duration);
    }

    [Theory]
    [InlineData("1d")]
    [InlineData("")]
    [InlineData("h")]
    [InlineData("10")]
    [InlineData("1.2.3h")]
    [InlineData("-")]
    [InlineData("1H")]
    [InlineData("3000000h")]
    [InlineData("1 h")]
    public void Invalid_go_durations_are_refused(string text) => Assert.False(GoDuration.TryParse(text, out _));

    [Fact]
    public void Defaults_are_now_and_the_profile_validity()
    {
        var time = new FakeTimeProvider(Now);
        var (nb, na) = StepValidity.Resolve(null, null, StepProfile.Leaf, time);
        Assert.Equal(NowSeconds, nb);
        Assert.Equal(NowSeconds.AddHours(24), na);
        (nb, na) = StepValidity.Resolve(null, null, StepProfile.RootCa, time);
        Assert.Equal(NowSeconds.AddHours(87600), na);
        (_, na) = StepValidity.Resolve(null, "8760h", StepProfile.IntermediateCa, time);
        Assert.Equal(NowSeconds.AddDays(365), na);
    }

    [Fact]
    public void Durations_are_relative_to_now_for_both_flags()
    {
        var time = new FakeTimeProvider(Now);
        var (nb, na) = StepValidity.Resolve("-1h", "48h", StepProfile.Leaf, time);
        Assert.Equal(NowSeconds.AddHours(-1), nb);
        Assert.Equal(NowSeconds.AddHours(48), na);
        (nb, na) = StepValidity.Resolve("24h", null, StepProfile.Leaf, time);
        Assert.Equal(NowSeconds.AddHours(24), nb);
        Assert.Equal(NowSeconds.AddHours(48), na);
    }

    [Theory]
    [InlineData("2026-01-01T00:00:00Z", "2026-01-01T00:00:00+00:00")]
    [InlineData("2027-06-30T12:34:56+02:00", "2027-06-30T10:34:56+00:00")]
    [InlineData("2027-06-30T12:34:56.987654321Z", "2027-06-30T12:34:56+00:00")]
    public void Rfc3339_times_parse(string text, string expected)
    {
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), StepValidity.ParseTimeOrDuration(text, Now));
    }

    [Fact]
    public void Steps_error_messages()
    {
        var time = new FakeTimeProvider(Now);
        Assert.Equal(
            "flag '--not-before 2h' is incompatible with flag '--not-after 1h'",
            Assert.Throws<PkiException>(() => StepValidity.Resolve("2h", "1h", StepProfile.Leaf, time)).Message);
        Assert.Equal(
            "invalid value '-1h' for flag '--not-after': certificate is already expired",
            Assert.Throws<PkiException>(() => StepValidity.Resolve(null, "-1h", StepProfile.Leaf, time)).Message);
        Assert.Equal(
            "invalid value '1d' for flag '--not-after'",
            Assert.Throws<PkiException>(() => StepValidity.Resolve(null, "1d", StepProfile.Leaf, time)).Message);
        Assert.Equal(
            "invalid value 'yesterday' for flag '--not-before'",
            Assert.Throws<PkiException>(() => StepValidity.Resolve("yesterday", null, StepProfile.Leaf, time)).Message);
    }
}
