using System.CommandLine;

namespace Identity.Cli;

/// <summary>The top-level subcommands, each built in its own folder.</summary>
internal static class Commands
{
    public static IEnumerable<Command> All()
    {
        yield return Cert.CertCommand.Create();
        yield return Check.CheckCommand.Create();
        yield return Anchors.AnchorsCommand.Create();
        yield return IssuerRotation.IssuerCommand.Create();
        yield return Serve.ServeCommand.Create(Serve.ServeServices.Register);
        yield return Demo.DemoCommand.Create();
    }
}
