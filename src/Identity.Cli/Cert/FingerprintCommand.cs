using System.CommandLine;

namespace Identity.Cli.Cert;

/// <summary>Placeholder; replaced by the fingerprint implementation.</summary>
internal static class FingerprintCommand
{
    public static Command Create() => new("fingerprint", "Print the SHA-256 fingerprint of a certificate.");
}
