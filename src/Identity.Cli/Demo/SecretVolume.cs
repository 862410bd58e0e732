using System.Globalization;
using System.Runtime.InteropServices;
using Identity.Pki.Files;

namespace Identity.Cli.Demo;

/// <summary>
/// A directory laid out like a Kubernetes Secret/ConfigMap volume: the files live in a timestamped directory
/// (<c>..2026_11_26_12_00_00.123456789</c>), <c>..data</c> links to it and each visible name links into
/// <c>..data</c>. An update writes a new timestamped directory and renames a fresh link over <c>..data</c>, so a reader
/// sees either the old set or the new set, never a mix: the swap the identity server's watcher is built for.
/// </summary>
internal static class SecretVolume
{
    private const string DataLink = "..data";

    /// <summary>Writes (or atomically replaces) the volume's contents. Files named in <paramref name="secretFiles"/> get mode 0600.</summary>
    public static void Write(string directory, IReadOnlyDictionary<string, string> files, IReadOnlySet<string> secretFiles)
    {
        Directory.CreateDirectory(directory);
        var dataLink = Path.Combine(directory, DataLink);
        var previous = new FileInfo(dataLink).LinkTarget is { } target ? Path.Combine(directory, target) : null;

        // The kubelet's atomic writer names the directory "..<timestamp>.<random>" (a TempDir with that prefix).
        var stamp = ".." + DateTime.UtcNow.ToString("yyyy_MM_dd_HH_mm_ss.", CultureInfo.InvariantCulture)
            + System.Security.Cryptography.RandomNumberGenerator.GetInt32(100_000_000, 1_000_000_000).ToString(CultureInfo.InvariantCulture);
        var timestamped = Path.Combine(directory, stamp);
        Directory.CreateDirectory(timestamped);
        // Secrets first, so no moment exists where a certificate is visible without its key being written.
        foreach (var (name, contents) in files.OrderBy(f => secretFiles.Contains(f.Key) ? 0 : 1))
        {
            SecureFile.WriteText(Path.Combine(timestamped, name), contents, overwrite: false);
        }

        // rename(2) over the old link is the atomic step; the temporary link never collides thanks to the GUID.
        var temporary = Path.Combine(directory, "..data_tmp" + Guid.NewGuid().ToString("N"));
        File.CreateSymbolicLink(temporary, stamp);
        RenameOver(temporary, dataLink);

        foreach (var name in files.Keys)
        {
            var visible = Path.Combine(directory, name);
            if (new FileInfo(visible).LinkTarget is null)
            {
                File.CreateSymbolicLink(visible, Path.Combine(DataLink, name));
            }
        }

        if (previous is not null && Directory.Exists(previous) && Path.GetFullPath(previous) != Path.GetFullPath(timestamped))
        {
            Directory.Delete(previous, recursive: true);
        }
    }

    // File.Move follows the link and refuses a source that is a directory; rename(2) moves the link itself and
    // atomically replaces the old one, which is exactly what the kubelet's atomic writer does.
    private static void RenameOver(string source, string destination)
    {
        if (NativeMethods.Rename(source, destination) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            File.Delete(source);
            throw new IOException($"rename {source} -> {destination} failed (errno {errno})");
        }
    }

    /// <summary>The timestamped directory <c>..data</c> points at now.</summary>
    public static string CurrentDataDirectory(string directory) =>
        new FileInfo(Path.Combine(directory, DataLink)).LinkTarget
            ?? throw new InvalidOperationException($"{directory} has no {DataLink} link");
}

internal static class NativeMethods
{
    [DllImport("libc", EntryPoint = "rename", SetLastError = true)]
    internal static extern int Rename([MarshalAs(UnmanagedType.LPUTF8Str)] string oldPath, [MarshalAs(UnmanagedType.LPUTF8Str)] string newPath);
}
