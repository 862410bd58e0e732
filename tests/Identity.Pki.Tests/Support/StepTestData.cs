namespace Identity.Pki.Tests.Support;

/// <summary>Locates the real step output in ../shared/testdata/step relative to the solution folder.</summary>
internal static class StepTestData
{
    private static readonly Lazy<string> Dir = new(() =>
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

        var path = Path.Combine(dir.Parent.FullName, "shared", "testdata", "step");
        return Directory.Exists(path) ? path : throw new InvalidOperationException("step test data not found at " + path);
    });

    public static string Directory_ => Dir.Value;

    public static string PathOf(string name) => Path.Combine(Dir.Value, name);

    public static byte[] Bytes(string name) => File.ReadAllBytes(PathOf(name));

    public static string Password => File.ReadAllText(PathOf("password.txt")).TrimEnd();
}
