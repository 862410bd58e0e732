namespace Identity.Cli.Tests;

/// <summary>
/// Runs the built <c>identity</c> executable as a separate process. In-process tests parse with a root command
/// they build; only a real process has the executable's own name as root, which is where name clashes between
/// the root and a subcommand surface.
/// </summary>
public sealed class ExecutableTests
{
    private static Task<ProcessResult> Identity(params string[] args) =>
        ExternalTool.RunAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "identity.dll"), .. args], TestContext.Current.CancellationToken);

    [Fact]
    public async Task Help_lists_every_command()
    {
        var result = await Identity("--help");

        Assert.True(result.ExitCode == 0, result.Output);
        foreach (var command in new[] { "cert", "check", "anchors", "issuer", "serve", "demo" })
        {
            Assert.Contains($"  {command} ", result.Stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Linkerds_chart_arguments_reach_serve()
    {
        // The chart's first argument is `identity`; a bad flag value proves the serve command parsed them.
        var result = await Identity("identity", "-controller-namespace=linkerd", "-log-level=loud");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("identity serve: -log-level: 'loud' is not one of", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cert_command_prints_what_step_printed()
    {
        var result = await Identity("cert", "fingerprint", TestPaths.StepFile("leaf.crt"));

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Equal(File.ReadAllText(TestPaths.StepFile("fingerprint-leaf.txt")), result.Stdout);
    }
}
