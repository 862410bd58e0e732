using System.CommandLine;
using Identity.Pki.Verification;

namespace Identity.Cli.Cert;

/// <summary>
/// <c>identity cert verify &lt;crt-file&gt; [--roots file|list|dir] [--host name] [--verbose]</c>, step's
/// semantics: the first certificate is the leaf, the rest are intermediates; success prints nothing.
/// Unlike step, an unreadable <c>--roots</c> is an error instead of a silent fall-back to the system store.
/// </summary>
public static class VerifyCommand
{
    /// <summary>Builds the command, verifying at the current time.</summary>
    public static Command Create() => Create(TimeProvider.System);

    /// <summary>Builds the command with an explicit clock (tests pin the verification time).</summary>
    public static Command Create(TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        var file = new Argument<string>("crt-file")
        {
            Description = "Certificate file (PEM or DER): the leaf first, then any intermediates.",
        };
        var roots = new Option<string?>("--roots")
        {
            Description = "Root certificates: a file, a comma-separated list of files, or a directory. "
                + "Without it the system trust store is used.",
        };
        var host = new Option<string?>("--host")
        {
            Description = "Also check that the certificate is valid for this DNS name or IP address.",
        };
        var verbose = new Option<bool>("--verbose")
        {
            Description = "Print what was validated on success.",
        };

        var command = new Command("verify", "Verify a certificate chain against root certificates.");
        command.Arguments.Add(file);
        command.Options.Add(roots);
        command.Options.Add(host);
        command.Options.Add(verbose);
        command.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var hostName = parseResult.GetValue(host);
            IReadOnlyList<System.Security.Cryptography.X509Certificates.X509Certificate2> certificates;
            try
            {
                certificates = CertificateFile.ReadCertificates(parseResult.GetValue(file)!);
            }
            catch (CertificateFileException ex)
            {
                error.Write($"error reading certificate: {ex.Message}\n");
                return 1;
            }

            var rootsSpec = parseResult.GetValue(roots);
            TrustBundle? anchors = null;
            if (rootsSpec is not null)
            {
                try
                {
                    anchors = TrustBundle.Load(rootsSpec);
                }
                catch (CertificateFileException ex)
                {
                    error.Write($"error loading --roots: {ex.Message}\n");
                    return 1;
                }
            }

            var at = timeProvider.GetUtcNow();
            var leaf = certificates[0];
            var intermediates = certificates.Skip(1);
            var result = anchors is null
                ? ChainVerifier.VerifyWithSystemRoots(leaf, intermediates, at, hostName)
                : ChainVerifier.Verify(leaf, intermediates, anchors, at, hostName);
            if (!result.IsValid)
            {
                error.Write($"failed to verify certificate: {result.Error}\n");
                return 1;
            }

            if (parseResult.GetValue(verbose))
            {
                output.Write("certificate validated against roots\n");
                if (!string.IsNullOrEmpty(hostName))
                {
                    output.Write("certificate host name validated\n");
                }

                output.Write("certificate is valid\n");
            }

            return 0;
        });
        return command;
    }
}
