using System.Text;

namespace Identity.Pki.Files;

/// <summary>
/// Writes files atomically with owner-only permissions: the data goes to a temporary file created with mode
/// 0600 in the target's directory (never chmod-ed afterwards, so it is never readable by others), is flushed,
/// then renamed over the target. A failure leaves no partial file behind.
/// </summary>
public static class SecureFile
{
    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Writes <paramref name="contents"/> to <paramref name="path"/>.</summary>
    /// <param name="path">Target file.</param>
    /// <param name="contents">Bytes to write.</param>
    /// <param name="overwrite">Replace an existing file; otherwise an existing file is an error and is left untouched.</param>
    /// <exception cref="PkiException">The file exists (and <paramref name="overwrite"/> is false) or cannot be written.</exception>
    public static void Write(string path, ReadOnlySpan<byte> contents, bool overwrite)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        if (!overwrite && (File.Exists(full) || Directory.Exists(full)))
        {
            throw new PkiException($"{path} already exists: use --force to overwrite it");
        }

        var directory = Path.GetDirectoryName(full) ?? ".";
        if (!Directory.Exists(directory))
        {
            throw new PkiException($"error writing {path}: directory {directory} does not exist");
        }

        var temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = OwnerReadWrite;
            }

            using (var stream = new FileStream(temp, options))
            {
                stream.Write(contents);
                stream.Flush(flushToDisk: true);
            }

            // Without overwrite, Move fails if the target appeared meanwhile instead of silently replacing it.
            File.Move(temp, full, overwrite);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new PkiException(
                !overwrite && File.Exists(full)
                    ? $"{path} already exists: use --force to overwrite it"
                    : $"error writing {path}: {e.Message}",
                e);
        }
    }

    /// <summary>Writes text as UTF-8.</summary>
    public static void WriteText(string path, string contents, bool overwrite) =>
        Write(path, Encoding.UTF8.GetBytes(contents), overwrite);

    /// <summary>Best-effort delete, used to roll back a file written earlier in a failed operation.</summary>
    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Nothing more can be done; the original error is the one worth reporting.
        }
    }
}
