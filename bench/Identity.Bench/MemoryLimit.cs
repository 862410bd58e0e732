using System.Diagnostics;
using System.Globalization;

namespace Identity.Bench;

/// <summary>
/// Puts a child process under a memory limit: a memory cgroup (v2, else v1) where this machine lets us create one,
/// otherwise the runtime's own heap hard limit (<c>DOTNET_GCHeapHardLimit</c>), which bounds only the GC heap.
/// </summary>
internal sealed class MemoryLimit : IDisposable
{
    private const string V2Root = "/sys/fs/cgroup";
    private const string V1Root = "/sys/fs/cgroup/memory";

    private readonly string? _cgroup;
    private readonly bool _v2;
    private readonly long _bytes;

    private MemoryLimit(string? cgroup, bool v2, long bytes, string description)
    {
        _cgroup = cgroup;
        _v2 = v2;
        _bytes = bytes;
        Description = description;
    }

    /// <summary>What bounds the process, for the report.</summary>
    public string Description { get; }

    public static MemoryLimit Create(int mebibytes)
    {
        var bytes = mebibytes * 1024L * 1024L;
        var name = $"identity-bench-{Environment.ProcessId}";
        if (File.Exists(Path.Combine(V2Root, "cgroup.controllers"))
            && File.ReadAllText(Path.Combine(V2Root, "cgroup.controllers")).Split(' ', '\n').Contains("memory")
            && TryCreate(Path.Combine(V2Root, name), ("memory.max", bytes.ToString(CultureInfo.InvariantCulture)), ("memory.swap.max", "0")) is { } v2)
        {
            return new MemoryLimit(v2, true, bytes, $"memory cgroup v2 {v2} (memory.max {mebibytes} MiB, no swap)");
        }

        if (Directory.Exists(V1Root)
            && TryCreate(Path.Combine(V1Root, name), ("memory.limit_in_bytes", bytes.ToString(CultureInfo.InvariantCulture))) is { } v1)
        {
            // No swap is configured on these machines; memsw is set where the kernel offers it so swap cannot stretch it.
            TryWrite(Path.Combine(v1, "memory.memsw.limit_in_bytes"), bytes.ToString(CultureInfo.InvariantCulture));
            return new MemoryLimit(v1, false, bytes, $"memory cgroup v1 {v1} (memory.limit_in_bytes {mebibytes} MiB)");
        }

        return new MemoryLimit(null, false, bytes,
            $"no writable memory cgroup here: DOTNET_GCHeapHardLimit={mebibytes} MiB (bounds the GC heap only, not native memory)");
    }

    /// <summary>Starts <paramref name="start"/>'s program inside the limit (through <c>/bin/sh</c>, which joins the cgroup and execs it).</summary>
    public Process Start(ProcessStartInfo start)
    {
        if (_cgroup is null)
        {
            start.Environment["DOTNET_GCHeapHardLimit"] = "0x" + _bytes.ToString("X", CultureInfo.InvariantCulture);
            return Process.Start(start)!;
        }

        // The process must be in the cgroup before the runtime starts: it reads its limit once, at start.
        var wrapped = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardOutput = start.RedirectStandardOutput,
            RedirectStandardError = start.RedirectStandardError,
            UseShellExecute = false,
        };
        foreach (var (key, value) in start.Environment)
        {
            wrapped.Environment[key] = value;
        }

        wrapped.ArgumentList.Add("-c");
        wrapped.ArgumentList.Add("echo $$ > \"$0/cgroup.procs\" && exec \"$@\"");
        wrapped.ArgumentList.Add(_cgroup);
        wrapped.ArgumentList.Add(start.FileName);
        foreach (var argument in start.ArgumentList)
        {
            wrapped.ArgumentList.Add(argument);
        }

        return Process.Start(wrapped)!;
    }

    /// <summary>The cgroup's peak usage in MiB (page cache included), or null without a cgroup.</summary>
    public double? PeakMiB() => _cgroup is null ? null
        : ReadLong(Path.Combine(_cgroup, _v2 ? "memory.peak" : "memory.max_usage_in_bytes")) / (1024.0 * 1024.0);

    /// <summary>How many times the kernel's OOM killer fired in the cgroup, or null without a cgroup.</summary>
    public long? OomKills()
    {
        if (_cgroup is null)
        {
            return null;
        }

        var file = Path.Combine(_cgroup, _v2 ? "memory.events" : "memory.oom_control");
        foreach (var line in File.ReadLines(file))
        {
            var parts = line.Split(' ');
            if (parts.Length == 2 && parts[0] == "oom_kill")
            {
                return long.Parse(parts[1], CultureInfo.InvariantCulture);
            }
        }

        return null;
    }

    public void Dispose()
    {
        if (_cgroup is not null)
        {
            try
            {
                Directory.Delete(_cgroup);
            }
            catch (IOException)
            {
                // Still holds a process that has not been reaped yet; the kernel removes nothing for us, so say so.
                Console.Error.WriteLine($"could not remove {_cgroup}; remove it with rmdir once its processes are gone");
            }
        }
    }

    private static string? TryCreate(string path, params (string File, string Value)[] settings)
    {
        try
        {
            Directory.CreateDirectory(path);
            File.WriteAllText(Path.Combine(path, settings[0].File), settings[0].Value);
            foreach (var (file, value) in settings.Skip(1))
            {
                TryWrite(Path.Combine(path, file), value);
            }

            return path;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try
            {
                Directory.Delete(path);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                // It was never created.
            }

            return null;
        }
    }

    private static void TryWrite(string path, string value)
    {
        try
        {
            File.WriteAllText(path, value);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Optional setting the kernel does not offer.
        }
    }

    private static long ReadLong(string path) => long.Parse(File.ReadAllText(path).Trim(), CultureInfo.InvariantCulture);
}
