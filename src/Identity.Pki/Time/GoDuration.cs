using System.Globalization;

namespace Identity.Pki.Time;

/// <summary>
/// Go's <c>time.ParseDuration</c>: an optional sign and a sequence of decimal numbers with a unit each
/// (<c>ns us µs ms s m h</c>), e.g. <c>8760h</c>, <c>-1.5h</c>, <c>2h45m</c>, <c>300ms</c>. There is no day unit.
/// </summary>
public static class GoDuration
{
    private const decimal NanosPerTick = 100m;

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
}
