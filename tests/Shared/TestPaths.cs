namespace Identity.Testing;

/// <summary>
/// Where the repository and its test data are: the folder holding Identity.sln, found by walking up from the test
/// binaries, and the recorded step vectors in <c>tests/testdata/step</c> inside it. Nothing here looks outside the
/// clone: a user's clone has nothing beside it.
/// </summary>
internal static class TestPaths
{
    private static readonly Lazy<string> Solution = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Identity.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Identity.sln not found above " + AppContext.BaseDirectory);
    });

    private static readonly Lazy<string> Step = new(() =>
    {
        var path = Path.Combine(Solution.Value, "tests", "testdata", "step");
        return Directory.Exists(path) ? path : throw new DirectoryNotFoundException("step test data not found at " + path);
    });

    /// <summary>When step made the vectors (MANIFEST.md); default-validity leaves expire a day later.</summary>
    public static readonly DateTimeOffset StepMade = new(2026, 11, 26, 11, 21, 55, TimeSpan.Zero);

    /// <summary>The folder holding Identity.sln.</summary>
    public static string SolutionDirectory => Solution.Value;

    /// <summary>The folder of real step output.</summary>
    public static string StepDirectory => Step.Value;

    /// <summary>The path of one step vector.</summary>
    public static string StepFile(string name) => Path.Combine(Step.Value, name);
}
