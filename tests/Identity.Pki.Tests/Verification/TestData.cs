namespace Identity.Pki.Tests.Verification;

/// <summary>Locates the shared step test vectors: next to the folder holding Identity.sln.</summary>
internal static class TestData
{
    private static readonly Lazy<string> StepDirectory = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Identity.sln")))
        {
            dir = dir.Parent;
        }

        if (dir?.Parent is null)
        {
            throw new InvalidOperationException("Identity.sln not found above " + AppContext.BaseDirectory);
        }

        var step = Path.Combine(dir.Parent.FullName, "shared", "testdata", "step");
        return Directory.Exists(step) ? step : throw new DirectoryNotFoundException(step);
    });

    public static string Step(string file) => Path.Combine(StepDirectory.Value, file);

    /// <summary>The moment the step vectors were made (MANIFEST.md).</summary>
    public static readonly DateTimeOffset Made = new(2026, 11, 26, 11, 21, 55, TimeSpan.Zero);
}
