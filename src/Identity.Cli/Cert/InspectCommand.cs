using System.CommandLine;

namespace Identity.Cli.Cert;

/// <summary>Placeholder; replaced by the inspect implementation.</summary>
internal static class InspectCommand
{
    public static Command Create() => new("inspect", "Print certificate or CSR details.");
}
