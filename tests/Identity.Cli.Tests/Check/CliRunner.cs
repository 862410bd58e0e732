using System.CommandLine;
using Identity.Cli.Anchors;
using Identity.Cli.Check;
using Microsoft.Extensions.Time.Testing;

namespace Identity.Cli.Tests.Check;

/// <summary>Runs the commands under test in-process with captured stdout/stderr and a fake clock.</summary>
internal static class CliRunner
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static async Task<Result> RunAsync(DateTimeOffset now, params string[] args)
    {
        var time = new FakeTimeProvider(now);
        var root = new RootCommand("test");
        root.Subcommands.Add(CheckCommand.Create(time));
        root.Subcommands.Add(AnchorsCommand.Create(time));
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var config = new InvocationConfiguration { Output = stdout, Error = stderr };
        var exit = await root.Parse(args).InvokeAsync(config, TestContext.Current.CancellationToken);
        return new Result(exit, stdout.ToString(), stderr.ToString());
    }

    public static Task<Result> RunAsync(params string[] args) => RunAsync(TestPki.Now, args);
}
