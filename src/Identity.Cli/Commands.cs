using System.CommandLine;

namespace Identity.Cli;

/// <summary>The top-level subcommands, each built in its own folder.</summary>
internal static class Commands
{
    public static IEnumerable<Command> All()
    {
        yield return Cert.CertCommand.Create();
        yield return Serve.ServeCommand.Create();
        yield return Demo.DemoCommand.Create();
    }
}
