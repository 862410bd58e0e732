namespace Identity.Client;

/// <summary>
/// When to call Certify next. After a success: a fraction (default 70%) of the remaining lifetime, clamped to
/// [MinRefresh, MaxRefresh], as the proxy does. After failures: exponential backoff with "equal jitter" (a delay drawn
/// uniformly from [ceiling/2, ceiling], the ceiling doubling per failure up to MaxRetryDelay), so an identity-service
/// outage does not make every proxy retry in lockstep, yet retries never collapse to zero. A retry is never scheduled
/// after the current certificate's expiry.
/// </summary>
internal sealed class RenewalSchedule(IdentityClientOptions options, Func<double> random)
{
    public TimeSpan AfterSuccess(TimeSpan remaining)
    {
        var delay = remaining <= TimeSpan.Zero ? TimeSpan.Zero : remaining * options.RefreshFraction;
        return Clamp(delay, options.MinRefresh, options.MaxRefresh);
    }

    /// <summary>The backoff ceiling of the <paramref name="attempt"/>-th consecutive failure (1-based).</summary>
    public TimeSpan Ceiling(int attempt)
    {
        var ticks = options.InitialRetryDelay.Ticks * Math.Pow(options.RetryBackoffMultiplier, Math.Min(attempt - 1, 64));
        return ticks >= options.MaxRetryDelay.Ticks ? options.MaxRetryDelay : TimeSpan.FromTicks((long)ticks);
    }

    /// <param name="attempt">1-based number of consecutive failures.</param>
    /// <param name="currentRemaining">Lifetime left on the current certificate, or null when there is none.</param>
    public TimeSpan AfterFailure(int attempt, TimeSpan? currentRemaining)
    {
        var ceiling = Ceiling(attempt);
        var delay = (ceiling / 2) + (ceiling / 2 * random());
        if (currentRemaining is { } left && left > TimeSpan.Zero && delay > left)
        {
            // Try once more while the certificate still works rather than sleep past its expiry.
            delay = left;
        }

        return delay;
    }

    private static TimeSpan Clamp(TimeSpan value, TimeSpan min, TimeSpan max) => value < min ? min : value > max ? max : value;
}
