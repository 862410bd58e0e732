using System.CommandLine;

namespace Identity.Cli.Cert;

/// <summary>Placeholder; replaced by the verify implementation.</summary>
internal static class VerifyCommand
{
    public static Command Create() => new("verify", "Verify a certificate chain.");
}
