using System.CommandLine;
using System.Security.Cryptography;
using Identity.Pki.Verification;

namespace Identity.Cli.Cert;

/// <summary>
/// <c>identity cert fingerprint &lt;crt-file&gt; [--bundle] [--format ...]</c>: SHA-256 of the DER of the
/// certificate (or certificate request), lowercase hex by default, exactly as <c>step certificate fingerprint</c>.
/// </summary>
public static class FingerprintCommand
{
    /// <summary>The values <c>--format</c> accepts.</summary>
    public static readonly IReadOnlyList<string> Formats = ["hex", "base64", "base64-url", "base64-raw", "base64-url-raw"];

    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var file = new Argument<string>("crt-file")
        {
            Description = "Certificate or certificate request file (PEM or DER).",
        };
        var bundle = new Option<bool>("--bundle")
        {
            Description = "Print the fingerprint of every certificate in the file, numbered from 0.",
        };
        var format = new Option<string>("--format")
        {
            Description = "Encoding of the fingerprint: hex, base64, base64-url, base64-raw or base64-url-raw.",
            DefaultValueFactory = _ => "hex",
        };
        format.AcceptOnlyFromAmong([.. Formats]);

        var command = new Command("fingerprint", "Print the SHA-256 fingerprint of a certificate.");
        command.Arguments.Add(file);
        command.Options.Add(bundle);
        command.Options.Add(format);
        command.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            CertificateFileContents contents;
            try
            {
                contents = CertificateFile.Read(parseResult.GetValue(file)!);
            }
            catch (CertificateFileException ex)
            {
                parseResult.InvocationConfiguration.Error.Write($"error reading certificate: {ex.Message}\n");
                return 1;
            }

            var ders = contents.Certificates.Count > 0
                ? contents.Certificates.Select(c => (ReadOnlyMemory<byte>)c.RawData).ToList()
                : contents.CertificateRequests.ToList();
            if (ders.Count == 0)
            {
                parseResult.InvocationConfiguration.Error.Write(
                    $"error reading certificate: {contents.Source}: no CERTIFICATE or CERTIFICATE REQUEST PEM block found\n");
                return 1;
            }

            var encoding = parseResult.GetValue(format)!;
            if (parseResult.GetValue(bundle))
            {
                for (var i = 0; i < ders.Count; i++)
                {
                    output.Write($"{i}: {Fingerprint(ders[i].Span, encoding)}\n");
                }
            }
            else
            {
                output.Write(Fingerprint(ders[0].Span, encoding) + "\n");
            }

            return 0;
        });
        return command;
    }

    /// <summary>SHA-256 of <paramref name="der"/> in one of <see cref="Formats"/>.</summary>
    public static string Fingerprint(ReadOnlySpan<byte> der, string format)
    {
        var hash = SHA256.HashData(der);
        return format switch
        {
            "hex" => Convert.ToHexStringLower(hash),
            "base64" => Convert.ToBase64String(hash),
            "base64-url" => Convert.ToBase64String(hash).Replace('+', '-').Replace('/', '_'),
            "base64-raw" => Convert.ToBase64String(hash).TrimEnd('='),
            "base64-url-raw" => System.Buffers.Text.Base64Url.EncodeToString(hash),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, "unsupported fingerprint format"),
        };
    }
}
