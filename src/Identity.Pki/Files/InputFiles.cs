namespace Identity.Pki.Files;

/// <summary>Reading input files with step's conventions and clear errors.</summary>
public static class InputFiles
{
    /// <summary>Reads a whole file; a missing or unreadable file is a <see cref="PkiException"/>.</summary>
    public static byte[] Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (FileNotFoundException e)
        {
            throw new PkiException($"open {path}: no such file or directory", e);
        }
        catch (DirectoryNotFoundException e)
        {
            throw new PkiException($"open {path}: no such file or directory", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PkiException($"error reading {path}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Reads a password file: the whole file with all trailing whitespace trimmed (step's rule). An empty
    /// password is refused.
    /// </summary>
    public static string ReadPassword(string path)
    {
        var text = System.Text.Encoding.UTF8.GetString(Read(path)).TrimEnd();
        if (text.Length == 0)
        {
            throw new PkiException($"error reading {path}: the password file is empty");
        }

        return text;
    }
}
