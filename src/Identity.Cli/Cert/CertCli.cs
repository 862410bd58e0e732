using System.CommandLine;
using Identity.Pki;
using Identity.Pki.Verification;

namespace Identity.Cli.Cert;

/// <summary>Shared plumbing of the cert commands: step-style error reporting (message on stderr, exit 1).</summary>
internal static class CertCli
{
    public static int Run(ParseResult parseResult, Func<TextWriter, TextWriter, int> action)
    {
        var stdout = parseResult.InvocationConfiguration.Output;
        var stderr = parseResult.InvocationConfiguration.Error;
        try
        {
            return action(stdout, stderr);
        }
        catch (Exception e) when (e is PkiException or CertificateFileException)
        {
            stderr.WriteLine(e.Message);
            return 1;
        }
    }

    /// <summary>A usage error: the message step would print.</summary>
    public static PkiException Usage(string message) => new(message);

    public static string FullPath(string path) => Path.GetFullPath(path);
}
