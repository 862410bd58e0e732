namespace Identity.Testing;

/// <summary>A fresh temporary directory, removed (best effort) on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory(string prefix = "identity-tests-") => Path = Directory.CreateTempSubdirectory(prefix).FullName;

    public string Path { get; }

    /// <summary>The path of <paramref name="name"/> inside the directory.</summary>
    public string this[string name] => System.IO.Path.Combine(Path, name);

    /// <summary>The path of <paramref name="name"/> inside the directory.</summary>
    public string File(string name) => this[name];

    /// <summary>Writes <paramref name="contents"/> to <paramref name="name"/> and returns its path.</summary>
    public string Write(string name, string contents)
    {
        var path = this[name];
        System.IO.File.WriteAllText(path, contents);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp dir must not fail a test.
        }
    }
}
