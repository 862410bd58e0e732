using System.Globalization;
using System.Text;

namespace Identity.Pki.Time;

/// <summary>
/// Go's <c>time.ParseDuration</c>: an optional sign and a sequence of decimal numbers with a unit each
/// (<c>ns us µs ms s m h</c>), e.g. <c>8760h</c>, <c>24h0m0s</c>, <c>-1.5h</c>, <c>2h45m</c>, <c>300ms</c>. There is no
/// day unit. <see cref="Format"/> is Go's <c>Duration.String</c>, so flags and messages round-trip with Linkerd's.
/// </summary>
public static class GoDuration
{
    private const decimal NanosPerTick = 100m;
    private const decimal NanosPerSecond = 1_000_000_000m;
    private const decimal NanosPerMinute = 60 * NanosPerSecond;
    private const decimal NanosPerHour = 60 * NanosPerMinute;

    /// <summary>Parses a Go duration; false when the text is not one.</summary>
    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        var s = text.AsSpan();
        var negative = false;
        if (s[0] is '-' or '+')
        {
            negative = s[0] == '-';
            s = s[1..];
        }

        if (s.SequenceEqual("0"))
        {
            return true;
        }

        if (s.IsEmpty)
        {
            return false;
        }

        decimal nanos = 0;
        while (!s.IsEmpty)
        {
            var i = 0;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.'))
            {
                i++;
            }

            var number = s[..i];
            if (number.IsEmpty || number.Count('.') > 1 || number.SequenceEqual(".") ||
                !decimal.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
            {
                return false;
            }

            s = s[i..];
            var j = 0;
            while (j < s.Length && !char.IsAsciiDigit(s[j]) && s[j] != '.')
            {
                j++;
            }

            decimal unit = s[..j] switch
            {
                "ns" => 1m,
                "us" or "\u00b5s" or "\u03bcs" => 1_000m,
                "ms" => 1_000_000m,
                "s" => 1_000_000_000m,
                "m" => 60_000_000_000m,
                "h" => 3_600_000_000_000m,
                _ => 0m,
            };
            if (unit == 0m)
            {
                return false;
            }

            s = s[j..];
            try
            {
                nanos += value * unit;
            }
            catch (OverflowException)
            {
                return false;
            }

            // Go's limit: the result must fit an int64 of nanoseconds (about 292 years).
            if (nanos > long.MaxValue)
            {
                return false;
            }
        }

        var ticks = (long)decimal.Truncate(nanos / NanosPerTick);
        duration = TimeSpan.FromTicks(negative ? -ticks : ticks);
        return true;
    }

    /// <summary>
    /// Formats like Go's <c>Duration.String</c>: <c>24h0m0s</c>, <c>1m30s</c>, <c>1.5s</c>, <c>300ms</c>,
    /// <c>1.5µs</c>, <c>100ns</c>, <c>0s</c>.
    /// </summary>
    public static string Format(TimeSpan duration)
    {
        if (duration == TimeSpan.Zero)
        {
            return "0s";
        }

        var text = new StringBuilder();
        // Ticks as decimal: TimeSpan.MinValue cannot be negated as a TimeSpan.
        var nanos = duration.Ticks * NanosPerTick;
        if (nanos < 0)
        {
            text.Append('-');
            nanos = -nanos;
        }

        if (nanos < NanosPerSecond)
        {
            // Below a second Go picks the largest unit that keeps the number at least 1.
            var (unit, name) = nanos < 1_000m ? (1m, "ns") : nanos < 1_000_000m ? (1_000m, "\u00b5s") : (1_000_000m, "ms");
            return text.Append(Number(nanos / unit)).Append(name).ToString();
        }

        var hours = decimal.Truncate(nanos / NanosPerHour);
        nanos -= hours * NanosPerHour;
        var minutes = decimal.Truncate(nanos / NanosPerMinute);
        nanos -= minutes * NanosPerMinute;
        if (hours > 0)
        {
            text.Append(Number(hours)).Append('h');
        }

        if (hours > 0 || minutes > 0)
        {
            text.Append(Number(minutes)).Append('m');
        }

        return text.Append(Number(nanos / NanosPerSecond)).Append('s').ToString();
    }

    private static string Number(decimal value) => value.ToString("0.#########", CultureInfo.InvariantCulture);
}
