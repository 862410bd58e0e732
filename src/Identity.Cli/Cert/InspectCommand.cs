using System.CommandLine;
using System.Security.Cryptography;
using System.Text;
using Identity.Pki.Inspection;
using Identity.Pki.Verification;

namespace Identity.Cli.Cert;

/// <summary>
/// <c>identity cert inspect &lt;crt-file&gt; [--bundle] [--short] [--format text|json|pem]</c>: prints a
/// certificate (or CSR) the way <c>step certificate inspect</c> does. Only the first certificate unless
/// <c>--bundle</c>.
/// </summary>
public static class InspectCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var file = new Argument<string>("crt-file")
        {
            Description = "Certificate or certificate request file (PEM or DER).",
        };
        var bundle = new Option<bool>("--bundle")
        {
            Description = "Inspect every certificate in the file, not only the first.",
        };
        var shortForm = new Option<bool>("--short")
        {
            Description = "Print a short summary (text format only).",
        };
        var format = new Option<string>("--format")
        {
            Description = "Output format: text, json or pem.",
            DefaultValueFactory = _ => "text",
        };
        format.AcceptOnlyFromAmong("text", "json", "pem");

        var command = new Command("inspect", "Print the contents of a certificate or certificate request.");
        command.Arguments.Add(file);
        command.Options.Add(bundle);
        command.Options.Add(shortForm);
        command.Options.Add(format);
        command.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var selectedFormat = parseResult.GetValue(format)!;
            var isShort = parseResult.GetValue(shortForm);
            if (isShort && selectedFormat != "text")
            {
                error.Write($"flag '--short' is incompatible with '--format {selectedFormat}'\n");
                return 1;
            }

            CertificateFileContents contents;
            try
            {
                contents = CertificateFile.Read(parseResult.GetValue(file)!);
            }
            catch (CertificateFileException ex)
            {
                error.Write($"error reading certificate: {ex.Message}\n");
                return 1;
            }

            var all = parseResult.GetValue(bundle);
            try
            {
                if (contents.Certificates.Count > 0)
                {
                    var certificates = all ? contents.Certificates : [contents.Certificates[0]];
                    output.Write(selectedFormat switch
                    {
                        "json" => CertificateJson.Format(certificates, asArray: all),
                        "pem" => Pem("CERTIFICATE", certificates.Select(c => (ReadOnlyMemory<byte>)c.RawData)),
                        _ => string.Concat(certificates.Select(c => isShort ? CertificateText.FormatShort(c) : CertificateText.Format(c))),
                    });
                    return 0;
                }

                if (contents.CertificateRequests.Count > 0)
                {
                    var requests = all ? contents.CertificateRequests : [contents.CertificateRequests[0]];
                    output.Write(selectedFormat switch
                    {
                        "json" => CertificateJson.FormatRequests(requests, asArray: all),
                        "pem" => Pem("CERTIFICATE REQUEST", requests),
                        _ => string.Concat(requests.Select(r => isShort ? CertificateText.FormatRequestShort(r) : CertificateText.FormatRequest(r))),
                    });
                    return 0;
                }
            }
            catch (Exception ex) when (ex is System.Formats.Asn1.AsnContentException or CryptographicException)
            {
                error.Write($"error parsing {contents.Source}: {ex.Message}\n");
                return 1;
            }

            error.Write($"error reading certificate: {contents.Source}: no CERTIFICATE or CERTIFICATE REQUEST PEM block found\n");
            return 1;
        });
        return command;
    }

    private static string Pem(string label, IEnumerable<ReadOnlyMemory<byte>> ders)
    {
        var builder = new StringBuilder();
        foreach (var der in ders)
        {
            builder.Append(PemEncoding.Write(label, der.Span)).Append('\n');
        }

        return builder.ToString();
    }
}
