using System.Globalization;

namespace Identity.Bench;

/// <summary>Linux /proc readings: memory high-water marks and the load average.</summary>
internal static class ProcStatus
{
    /// <summary>VmHWM (peak resident set) and VmRSS of <paramref name="pid"/> ("self" for this process), in MiB.</summary>
    public static (double PeakMiB, double CurrentMiB)? Memory(string pid)
    {
        try
        {
            double? hwm = null, rss = null;
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    hwm = Kib(line);
                }
                else if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    rss = Kib(line);
                }
            }

            return hwm is { } h && rss is { } r ? (h / 1024, r / 1024) : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    public static string LoadAverage()
    {
        try
        {
            var fields = File.ReadAllText("/proc/loadavg").Split(' ');
            return string.Join(' ', fields.Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static double Kib(string line) =>
        double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
}
