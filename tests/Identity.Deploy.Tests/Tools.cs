namespace Identity.Deploy.Tests;

/// <summary>Locates the repository and runs the external tools the tests render with.</summary>
internal static class Tools
{
    /// <summary>
    /// kubectl: $IDENTITY_TEST_KUBECTL when set (also how the skip path is exercised), else
    /// /usr/bin/kubectl, else the first kubectl on PATH.
    /// </summary>
    public static string Kubectl { get; } = FindTool("IDENTITY_TEST_KUBECTL", "kubectl");

    /// <summary>promtool (Debian package prometheus): $IDENTITY_TEST_PROMTOOL, /usr/bin/promtool, or on PATH.</summary>
    public static string Promtool { get; } = FindTool("IDENTITY_TEST_PROMTOOL", "promtool");

    /// <summary>prometheus (Debian package prometheus): $IDENTITY_TEST_PROMETHEUS, /usr/bin/prometheus, or on PATH.</summary>
    public static string Prometheus { get; } = FindTool("IDENTITY_TEST_PROMETHEUS", "prometheus");

    private static readonly TimeSpan ToolTimeout = TimeSpan.FromMinutes(1);

    /// <summary>The folder holding Identity.sln, found by walking up from the test binaries.</summary>
    public static string RepoRoot => TestPaths.SolutionDirectory;

    public static string DeployDir => Path.Combine(RepoRoot, "deploy");

    public static bool HasKubectl => File.Exists(Kubectl);

    /// <summary>
    /// Skips the test when <paramref name="tool"/> is missing on a developer's machine, and fails it under CI
    /// (<c>CI</c> set), where .ci/run installs the Debian package <paramref name="package"/>.
    /// </summary>
    public static void RequireTool(string tool, string package)
    {
        if (File.Exists(tool))
        {
            return;
        }

        var message = $"{tool} is not installed (apt-get install {package}; .ci/run installs it)";
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI")))
        {
            Assert.Fail(message + ": CI must run this test.");
        }

        Assert.Skip(message + ".");
    }

    /// <summary>Runs a tool to completion (bounded); returns its exit code, stdout and stderr.</summary>
    public static Task<ProcessResult> RunAsync(string fileName, IEnumerable<string> arguments, CancellationToken cancellationToken) =>
        ExternalTool.RunAsync(fileName, arguments, cancellationToken, ToolTimeout);

    /// <summary>`kubectl kustomize DIR`; fails the test with kubectl's stderr when rendering fails.</summary>
    public static async Task<string> KustomizeAsync(string directory, CancellationToken cancellationToken)
    {
        var (exitCode, stdout, stderr) = await RunAsync(Kubectl, ["kustomize", directory], cancellationToken);
        Assert.True(exitCode == 0, $"kubectl kustomize {directory} exited {exitCode}: {stderr}");
        return stdout;
    }

    public static void CopyDirectory(string source, string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(destination, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    private static string FindTool(string variable, string name)
    {
        var configured = Environment.GetEnvironmentVariable(variable);
        if (!string.IsNullOrEmpty(configured))
        {
            return configured;
        }

        var standard = "/usr/bin/" + name;
        if (File.Exists(standard))
        {
            return standard;
        }

        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
        return onPath ?? standard;
    }
}
