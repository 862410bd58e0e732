using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Identity.Pki;
using Identity.Pki.Certificates;
using Identity.Pki.Keys;

namespace Identity.Cli.Check;

/// <summary>
/// Reads the PEM files the identity controller reads with its rules, which are <see cref="LinkerdIssuerRules"/>'
/// (the server's loader uses the same), and adds what check reports on top: where a text came from, an encrypted
/// key named as such, and text Go's decoder would trip over.
/// </summary>
internal static class PemReader
{
    /// <summary>The leading CERTIFICATE blocks. Returns an error message instead of throwing.</summary>
    public static IReadOnlyList<X509Certificate2> ReadCertificates(string pem, string what, out string? error)
    {
        try
        {
            var certificates = LinkerdIssuerRules.DecodeCertificates(pem, what);
            error = certificates.Count == 0 ? $"{what}: no PEM certificate found" : null;
            return certificates;
        }
        catch (PkiException e)
        {
            error = $"{what}: {e.Message}";
            return [];
        }
    }

    /// <summary>
    /// Returns why Linkerd's Go reader (<c>DecodePEMCertificates</c>) would fail on text this reader accepts, or
    /// null. Go decodes block after block until the text is used up; anything left after the last block's END
    /// line (an extra blank line, trailing text) makes it fail with "not a PEM certificate" (linkerd2#3414).
    /// Reading stops silently at the first non-certificate block, so nothing after one matters.
    /// </summary>
    public static string? GoDecoderProblem(string pem)
    {
        var rest = pem.AsSpan();
        while (PemEncoding.TryFind(rest, out var fields))
        {
            if (!rest[fields.Label].SequenceEqual("CERTIFICATE"))
            {
                return null;
            }

            rest = rest[fields.Location.End..];

            // Go's pem.Decode consumes the END line including trailing spaces/tabs and one line ending.
            rest = rest.TrimStart(" \t");
            if (rest.StartsWith("\r\n"))
            {
                rest = rest[2..];
            }
            else if (rest.StartsWith("\n"))
            {
                rest = rest[1..];
            }

            if (rest.IsEmpty)
            {
                return null;
            }

            if (!PemEncoding.TryFind(rest, out _))
            {
                var shown = rest.Length > 20 ? rest[..20].ToString() + "..." : rest.ToString();
                return $"{rest.Length} byte(s) after the last PEM block (\"{System.Text.Encodings.Web.JavaScriptEncoder.Default.Encode(shown)}\"): Linkerd's Go controller fails on them with \"not a PEM certificate\"";
            }
        }

        return null;
    }

    /// <summary>The issuer key as the controller reads it. The error message never contains key material.</summary>
    public static PrivateKey? ReadPrivateKey(string pem, string what, out string? error)
    {
        // Legacy OpenSSL encryption (RFC 1421 headers) is named as such: the reader's own reason would ask for a
        // password the controller can never be given.
        if (pem.Contains("Proc-Type: 4,ENCRYPTED", StringComparison.Ordinal))
        {
            error = $"{what}: the key is encrypted (Proc-Type: 4,ENCRYPTED); the controller only reads unencrypted keys";
            return null;
        }

        try
        {
            var key = LinkerdIssuerRules.DecodeKey(pem, what);
            error = null;
            return key;
        }
        catch (PkiException e)
        {
            error = $"{what}: {e.Message}";
            return null;
        }
    }
}
