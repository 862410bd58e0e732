using System.Globalization;

namespace Identity.Bench;

/// <summary>Linux /proc readings: memory high-water marks and the load average.</summary>
internal static class ProcStatus
{
    // USER_HZ: 100 on every mainstream Linux build (sysconf(_SC_CLK_TCK)).
    private const double ClockTicksPerSecond = 100;

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

    /// <summary>User + system CPU seconds <paramref name="pid"/> has used so far (fields 14 and 15 of /proc/PID/stat).</summary>
    public static double? CpuSeconds(string pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) may hold spaces; the fixed fields start after its closing parenthesis.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = double.Parse(fields[11], CultureInfo.InvariantCulture) + double.Parse(fields[12], CultureInfo.InvariantCulture);
            return ticks / ClockTicksPerSecond;
        }
        catch (IOException)
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
