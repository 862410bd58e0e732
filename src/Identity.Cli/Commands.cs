using System.CommandLine;

namespace Identity.Cli;

/// <summary>The top-level subcommands, each built in its own folder.</summary>
internal static class Commands
{
    public const string Description = "Identity: a Linkerd-compatible certificate authority for service meshes.";

    public static IEnumerable<Command> All()
    {
        yield return Cert.CertCommand.Create();
        yield return Check.CheckCommand.Create();
        yield return Anchors.AnchorsCommand.Create();
        yield return IssuerRotation.IssuerCommand.Create();
        yield return Serve.ServeCommand.Create(Serve.ServeServices.Register);
        yield return Demo.DemoCommand.Create();
    }

    /// <summary>The root the executable parses with; its name is the executable's, <c>identity</c>.</summary>
    public static RootCommand CreateRoot(IEnumerable<Command>? commands = null)
    {
        var root = new RootCommand(Description);
        foreach (var command in commands ?? All())
        {
            root.Subcommands.Add(command);
        }

        return root;
    }

    /// <summary>
    /// Linkerd's chart starts its controller image as <c>&lt;binary&gt; identity -addr=... -issuer=...</c>. Reading a
    /// first argument <c>identity</c> as <c>serve</c> lets an operator swap only the image and keep the chart's
    /// arguments. This cannot be a command alias: the root command is itself named <c>identity</c>.
    /// </summary>
    public static string[] FromLinkerdChart(string[] args) =>
        args is ["identity", .. var rest] ? ["serve", .. rest] : args;
}
