using System.CommandLine;

namespace Identity.Cli.Tests.Cert.Support;

/// <summary>Runs the real `identity` command tree in-process with captured stdout/stderr.</summary>
internal static class CertCli
{
    public static CliResult Run(params string[] args) => Run(null, args);

    /// <summary>Runs with the cert group's clock replaced by <paramref name="time"/> when it is given.</summary>
    public static CliResult Run(TimeProvider? time, params string[] args)
    {
        var root = new RootCommand("identity");
        foreach (var command in Commands.All())
        {
            root.Subcommands.Add(command.Name == "cert" && time is not null ? Identity.Cli.Cert.CertCommand.Create(time) : command);
        }

        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = root.Parse(args).Invoke(new InvocationConfiguration { Output = stdout, Error = stderr });
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }

    public static CliResult RunOk(params string[] args)
    {
        var result = Run(args);
        Assert.True(result.ExitCode == 0, $"identity {string.Join(' ', args)} failed ({result.ExitCode}): {result.Stderr}");
        return result;
    }
}

internal sealed record CliResult(int ExitCode, string Stdout, string Stderr);
