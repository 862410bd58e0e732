using System.CommandLine;

namespace Identity.Cli.Cert;

/// <summary><c>identity cert inspect</c> (placeholder until the formatter lands).</summary>
public static class InspectCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create() => new("inspect", "Print certificate details.");
}
