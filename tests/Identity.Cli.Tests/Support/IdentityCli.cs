using System.CommandLine;
using Identity.Cli.Anchors;
using Identity.Cli.Cert;
using Identity.Cli.Check;
using Microsoft.Extensions.Time.Testing;

namespace Identity.Cli.Tests;

/// <summary>What one in-process run of the `identity` command printed.</summary>
internal sealed record CliResult(int ExitCode, string Stdout, string Stderr);

/// <summary>
/// Runs the real `identity` command tree in-process with captured stdout/stderr. When a clock is given, the
/// commands that read the time (cert, check, anchors) use it instead of the system clock.
/// </summary>
internal static class IdentityCli
{
    public static CliResult Run(params string[] args) => Run(null, args);

    public static CliResult Run(TimeProvider? time, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = Root(time).Parse(args).Invoke(new InvocationConfiguration { Output = stdout, Error = stderr });
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }

    public static CliResult RunOk(params string[] args)
    {
        var result = Run(args);
        Assert.True(result.ExitCode == 0, $"identity {string.Join(' ', args)} failed ({result.ExitCode}): {result.Stderr}");
        return result;
    }

    /// <summary>Runs asynchronously (as `check` against clusters needs) with the clock fixed at <paramref name="now"/>.</summary>
    public static async Task<CliResult> RunAsync(DateTimeOffset now, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var config = new InvocationConfiguration { Output = stdout, Error = stderr };
        var exit = await Root(new FakeTimeProvider(now)).Parse(args).InvokeAsync(config, TestContext.Current.CancellationToken);
        return new CliResult(exit, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs asynchronously at the check fixtures' time, <see cref="Check.CheckFixtures.Now"/>.</summary>
    public static Task<CliResult> RunAsync(params string[] args) => RunAsync(Check.CheckFixtures.Now, args);

    private static RootCommand Root(TimeProvider? time)
    {
        return Commands.CreateRoot(Commands.All().Select(command => time is null ? command : command.Name switch
        {
            "cert" => CertCommand.Create(time),
            "check" => CheckCommand.Create(time),
            "anchors" => AnchorsCommand.Create(time),
            _ => command,
        }));
    }
}
