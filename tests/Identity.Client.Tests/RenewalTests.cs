using Grpc.Core;
using Identity.Client.Tests.Support;

namespace Identity.Client.Tests;

public sealed class RenewalTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Renews_at_70_percent_of_remaining_lifetime()
    {
        await using var h = await Harness.StartAsync();
        h.Server.Lifetime = TimeSpan.FromSeconds(100);
        var client = h.CreateClient();
        var schedules = Harness.Schedules(client);
        var changes = 0;
        client.CredentialsChanged += (_, _) => Interlocked.Increment(ref changes);

        await client.StartAsync(Ct);
        var first = await Harness.NextAsync(schedules);
        Assert.Equal(new ScheduledAttempt(TimeSpan.FromSeconds(70), 0), first);
        var firstCreds = client.Current;
        Assert.NotNull(firstCreds);

        h.Time.Advance(TimeSpan.FromSeconds(69));
        Assert.Single(h.Server.Seen);

        h.Time.Advance(TimeSpan.FromSeconds(1));
        var second = await Harness.NextAsync(schedules);
        Assert.Equal(2, h.Server.Seen.Count);
        Assert.Equal(TimeSpan.FromSeconds(70), second.Delay);
        Assert.NotSame(firstCreds, client.Current);
        Assert.Equal(2, Volatile.Read(ref changes));
        await client.StopAsync(Ct);
    }

    [Theory]
    [InlineData(5, 10)] // 3.5 s, clamped up to the 10 s minimum
    [InlineData(48 * 3600, 24 * 3600)] // 33.6 h, clamped down to the 24 h maximum
    [InlineData(24 * 3600, 16.8 * 3600)] // the chart default: about 16.8 h
    public async Task Refresh_delay_is_clamped_to_min_and_max(double lifetimeSeconds, double expectedSeconds)
    {
        await using var h = await Harness.StartAsync();
        h.Server.Lifetime = TimeSpan.FromSeconds(lifetimeSeconds);
        var client = h.CreateClient();
        var schedules = Harness.Schedules(client);

        await client.StartAsync(Ct);

        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), (await Harness.NextAsync(schedules)).Delay);
    }

    [Fact]
    public async Task Refresh_bounds_are_configurable()
    {
        await using var h = await Harness.StartAsync();
        h.Server.Lifetime = TimeSpan.FromHours(10);
        var client = h.CreateClient(o =>
        {
            o.MaxRefresh = TimeSpan.FromHours(1);
            o.RefreshFraction = 0.5;
        });
        var schedules = Harness.Schedules(client);

        await client.StartAsync(Ct);

        Assert.Equal(TimeSpan.FromHours(1), (await Harness.NextAsync(schedules)).Delay);
    }

    [Fact]
    public async Task Failures_back_off_exponentially_up_to_the_cap()
    {
        await using var h = await Harness.StartAsync();
        h.Server.Behavior = (_, _) => throw new RpcException(new Status(StatusCode.Unavailable, "down"));
        // random() = 1 puts every delay at its ceiling, so the exact sequence is visible.
        var client = h.CreateClient(o => o.MaxRetryDelay = TimeSpan.FromSeconds(20), random: () => 1.0);
        var schedules = Harness.Schedules(client);

        await client.StartAsync(Ct);
        var delays = new List<double>();
        for (var i = 0; i < 7; i++)
        {
            var s = await Harness.NextAsync(schedules);
            Assert.Equal(i + 1, s.ConsecutiveFailures);
            delays.Add(s.Delay.TotalSeconds);
            h.Time.Advance(s.Delay);
        }

        Assert.Equal([1, 2, 4, 8, 16, 20, 20], delays);
        Assert.InRange(h.Server.Seen.Count, 7, 8); // the eighth attempt may still be in flight
        Assert.Null(client.Current);
    }

    [Fact]
    public async Task Backoff_jitter_stays_within_half_to_full_ceiling()
    {
        await using var h = await Harness.StartAsync();
        h.Server.Behavior = (_, _) => throw new RpcException(new Status(StatusCode.Unavailable, "down"));
        var client = h.CreateClient(); // real randomness
        var schedules = Harness.Schedules(client);

        await client.StartAsync(Ct);
        var ceiling = 1.0;
        var distinct = new HashSet<TimeSpan>();
        for (var i = 0; i < 10; i++)
        {
            var s = await Harness.NextAsync(schedules);
            Assert.InRange(s.Delay.TotalSeconds, ceiling / 2, ceiling);
            distinct.Add(s.Delay);
            h.Time.Advance(s.Delay);
            ceiling = Math.Min(ceiling * 2, 60);
        }

        Assert.True(distinct.Count > 5, "jitter should spread the delays");
    }

    [Fact]
    public async Task Current_certificate_is_kept_while_retries_fail_and_retries_never_pass_its_expiry()
    {
        await using var h = await Harness.StartAsync();
        h.Server.Lifetime = TimeSpan.FromSeconds(100);
        var client = h.CreateClient(random: () => 1.0);
        var schedules = Harness.Schedules(client);
        await client.StartAsync(Ct);
        Assert.Equal(TimeSpan.FromSeconds(70), (await Harness.NextAsync(schedules)).Delay);
        var creds = client.Current!;
        h.Server.Behavior = (_, _) => throw new RpcException(new Status(StatusCode.Internal, "issuer unavailable"));

        h.Time.Advance(TimeSpan.FromSeconds(70));
        var retries = new List<double>();
        while (h.Time.GetUtcNow() < creds.NotAfter)
        {
            var s = await Harness.NextAsync(schedules);
            Assert.Same(creds, client.Current);
            Assert.True(h.Time.GetUtcNow() + s.Delay <= creds.NotAfter, "a retry must not be scheduled after the current certificate expires");
            retries.Add(s.Delay.TotalSeconds);
            h.Time.Advance(s.Delay);
        }

        // 30 s were left: 1 + 2 + 4 + 8 = 15, then 16 would pass the expiry, so the last retry lands exactly on it.
        Assert.Equal([1, 2, 4, 8, 15], retries);
        Assert.Same(creds, client.Current);

        // Recovery: the next success resets the backoff and renews at 70% again.
        var afterExpiry = await Harness.NextAsync(schedules);
        Assert.Equal(TimeSpan.FromSeconds(32), afterExpiry.Delay);
        h.Server.Behavior = (r, _) => Task.FromResult(h.Server.Sign(r, TimeSpan.FromSeconds(100)));
        h.Time.Advance(afterExpiry.Delay);
        var renewed = await Harness.NextAsync(schedules);
        Assert.Equal(new ScheduledAttempt(TimeSpan.FromSeconds(70), 0), renewed);
        Assert.NotSame(creds, client.Current);
    }

    [Fact]
    public async Task Stop_ends_the_loop_and_keeps_the_credentials()
    {
        await using var h = await Harness.StartAsync();
        var client = h.CreateClient();
        var schedules = Harness.Schedules(client);
        await client.StartAsync(Ct);
        await Harness.NextAsync(schedules);

        await client.StopAsync(Ct);
        h.Time.Advance(TimeSpan.FromHours(1));

        Assert.Single(h.Server.Seen);
        Assert.NotNull(client.Current);
    }
}
