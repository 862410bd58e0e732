using System.Globalization;
using System.Text;

namespace Identity.Server;

/// <summary>Go <c>time.ParseDuration</c> syntax (<c>24h0m0s</c>, <c>1.5h</c>, <c>300ms</c>, <c>-10s</c>), so Linkerd's chart values parse unchanged.</summary>
public static class GoDuration
{
    private static readonly (string Unit, double Ticks)[] Units =
    [
        ("ns", 0.01), ("us", 10), ("µs", 10), ("μs", 10), ("ms", TimeSpan.TicksPerMillisecond),
        ("s", TimeSpan.TicksPerSecond), ("m", TimeSpan.TicksPerMinute), ("h", TimeSpan.TicksPerHour),
    ];

    /// <summary>Parses <paramref name="text"/>; false (with no exception) for anything Go would reject.</summary>
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
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

        double ticks = 0;
        while (!s.IsEmpty)
        {
            var i = 0;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.'))
            {
                i++;
            }

            if (i == 0 || !double.TryParse(s[..i], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            {
                return false;
            }

            s = s[i..];
            var j = 0;
            while (j < s.Length && !char.IsAsciiDigit(s[j]) && s[j] != '.')
            {
                j++;
            }

            var unit = s[..j];
            s = s[j..];
            var found = false;
            foreach (var (name, unitTicks) in Units)
            {
                if (unit.SequenceEqual(name))
                {
                    ticks += number * unitTicks;
                    found = true;
                    break;
                }
            }

            if (!found || ticks > TimeSpan.MaxValue.Ticks)
            {
                return false;
            }
        }

        value = TimeSpan.FromTicks((long)Math.Round(negative ? -ticks : ticks));
        return true;
    }

    /// <summary>Formats like Go's <c>Duration.String</c> for whole seconds and above (<c>24h0m0s</c>), else <c>1.5s</c>/<c>300ms</c>.</summary>
    public static string Format(TimeSpan value)
    {
        if (value == TimeSpan.Zero)
        {
            return "0s";
        }

        var sb = new StringBuilder();
        if (value < TimeSpan.Zero)
        {
            sb.Append('-');
            value = value.Duration();
        }

        if (value < TimeSpan.FromSeconds(1))
        {
            return sb.Append(value.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)).Append("ms").ToString();
        }

        var hours = (long)value.TotalHours;
        if (hours > 0)
        {
            sb.Append(hours.ToString(CultureInfo.InvariantCulture)).Append('h');
        }

        if (hours > 0 || value.Minutes > 0)
        {
            sb.Append(value.Minutes.ToString(CultureInfo.InvariantCulture)).Append('m');
        }

        var seconds = value.Seconds + (value.Ticks % TimeSpan.TicksPerSecond / (double)TimeSpan.TicksPerSecond);
        return sb.Append(seconds.ToString(CultureInfo.InvariantCulture)).Append('s').ToString();
    }
}
