namespace Identity.Client.Tests;

public sealed class RenewalScheduleTests
{
    private static RenewalSchedule Schedule(double random, Action<IdentityClientOptions>? tweak = null)
    {
        var options = new IdentityClientOptions();
        tweak?.Invoke(options);
        return new RenewalSchedule(options, () => random);
    }

    [Fact]
    public void Ceilings_double_from_one_second_and_stop_at_the_cap()
    {
        var s = Schedule(1);
        Assert.Equal([1, 2, 4, 8, 16, 32, 60, 60], Enumerable.Range(1, 8).Select(i => s.Ceiling(i).TotalSeconds).ToArray());
        Assert.Equal(TimeSpan.FromSeconds(60), s.Ceiling(1000)); // no overflow
    }

    [Theory]
    [InlineData(0.0, 0.5)]
    [InlineData(0.5, 0.75)]
    [InlineData(1.0, 1.0)]
    public void Jitter_draws_between_half_and_full_ceiling(double random, double fractionOfCeiling)
    {
        var s = Schedule(random);
        for (var attempt = 1; attempt <= 10; attempt++)
        {
            Assert.Equal(s.Ceiling(attempt) * fractionOfCeiling, s.AfterFailure(attempt, currentRemaining: null));
        }
    }

    [Fact]
    public void A_retry_is_not_scheduled_after_the_current_certificate_expires()
    {
        var s = Schedule(1);
        Assert.Equal(TimeSpan.FromSeconds(3), s.AfterFailure(7, TimeSpan.FromSeconds(3)));
        Assert.Equal(TimeSpan.FromSeconds(60), s.AfterFailure(7, TimeSpan.Zero)); // already expired: plain backoff
    }

    [Fact]
    public void Success_delay_is_seventy_percent_clamped()
    {
        var s = Schedule(1);
        Assert.Equal(TimeSpan.FromSeconds(70), s.AfterSuccess(TimeSpan.FromSeconds(100)));
        Assert.Equal(TimeSpan.FromSeconds(10), s.AfterSuccess(TimeSpan.FromSeconds(1)));
        Assert.Equal(TimeSpan.FromSeconds(10), s.AfterSuccess(TimeSpan.FromSeconds(-5)));
        Assert.Equal(TimeSpan.FromHours(24), s.AfterSuccess(TimeSpan.FromDays(30)));
    }
}
