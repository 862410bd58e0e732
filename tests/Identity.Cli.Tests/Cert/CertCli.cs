using System.CommandLine;
using Identity.Cli.Cert;

namespace Identity.Cli.Tests.Cert;

/// <summary>Runs the cert commands through a real parser with captured stdout/stderr.</summary>
internal static class CertCli
{
    public static readonly DateTimeOffset Made = new(2026, 11, 26, 11, 21, 55, TimeSpan.Zero);

    public static (int ExitCode, string Out, string Err) Run(TimeProvider? time, params string[] args)
    {
        var cert = new Command("cert")
        {
            InspectCommand.Create(),
            FingerprintCommand.Create(),
            time is null ? VerifyCommand.Create() : VerifyCommand.Create(time),
        };
        var root = new RootCommand("test");
        root.Subcommands.Add(cert);
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = root.Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    public static (int ExitCode, string Out, string Err) Run(params string[] args) => Run(null, args);

    public static string Step(string file) => Path.Combine(StepDirectory.Value, file);

    public static string StepText(string file) => File.ReadAllText(Step(file));

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

        return Path.Combine(dir.Parent.FullName, "shared", "testdata", "step");
    });
}
