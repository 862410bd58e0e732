using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Identity.Pki.X509;

namespace Identity.Cli.Check;

/// <summary>
/// Reads the PEM files the identity controller reads, with its rules (first key block only; certificates up to
/// the first non-certificate block). Deliberately not the shared Identity.Pki readers: those accept more than the
/// controller does (encrypted and Ed25519 keys, a key after an EC PARAMETERS block, certificates after other
/// blocks), and check exists to say what the controller would refuse.
/// </summary>
internal static class PemReader
{
    /// <summary>Parses every leading CERTIFICATE block. Returns an error message instead of throwing.</summary>
    public static IReadOnlyList<X509Certificate2> ReadCertificates(string pem, string what, out string? error)
    {
        var certificates = new List<X509Certificate2>();
        var rest = pem.AsMemory();
        while (PemEncoding.TryFind(rest.Span, out var fields))
        {
            var label = rest.Span[fields.Label].ToString();
            if (label != "CERTIFICATE")
            {
                // The Go decoder stops silently at the first other block; later certificates are ignored there too.
                break;
            }

            var der = Convert.FromBase64String(rest.Span[fields.Base64Data].ToString());
            var loaded = CertificateDecoder.Load(der);
            if (loaded.Value is not { } certificate)
            {
                error = $"{what}: certificate #{certificates.Count + 1} cannot be parsed: {loaded.Error}";
                return certificates;
            }

            certificates.Add(certificate);

            rest = rest[fields.Location.End..];
        }

        error = certificates.Count == 0 ? $"{what}: no PEM certificate found" : null;
        return certificates;
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

    /// <summary>
    /// Parses the first PEM block as an ECDSA or RSA private key (SEC1, PKCS#1 or unencrypted PKCS#8), as the
    /// controller does. The error message never contains key material.
    /// </summary>
    public static AsymmetricAlgorithm? ReadPrivateKey(string pem, string what, out string? error)
    {
        if (!PemEncoding.TryFind(pem, out var fields))
        {
            // Legacy OpenSSL encryption puts RFC 1421 headers inside the block, which PemEncoding does not accept.
            error = pem.Contains("Proc-Type: 4,ENCRYPTED", StringComparison.Ordinal)
                ? $"{what}: the key is encrypted (Proc-Type: 4,ENCRYPTED); the controller only reads unencrypted keys"
                : $"{what}: no PEM block found";
            return null;
        }

        var label = pem[fields.Label];
        byte[] der;
        try
        {
            der = Convert.FromBase64String(pem[fields.Base64Data]);
        }
        catch (FormatException)
        {
            error = $"{what}: the PEM block is not valid base64";
            return null;
        }

        try
        {
            switch (label)
            {
                case "EC PRIVATE KEY":
                {
                    var ec = ECDsa.Create();
                    ec.ImportECPrivateKey(der, out _);
                    error = null;
                    return ec;
                }

                case "RSA PRIVATE KEY":
                {
                    var rsa = RSA.Create();
                    rsa.ImportRSAPrivateKey(der, out _);
                    error = null;
                    return rsa;
                }

                case "PRIVATE KEY":
                    return ReadPkcs8(der, what, out error);

                default:
                    error = $"{what}: unsupported block type: '{label}' (expected EC PRIVATE KEY, RSA PRIVATE KEY or PRIVATE KEY; encrypted keys are not supported)";
                    return null;
            }
        }
        catch (CryptographicException ex)
        {
            error = $"{what}: the {label} block cannot be parsed: {ex.Message}";
            return null;
        }
    }

    private static AsymmetricAlgorithm? ReadPkcs8(byte[] der, string what, out string? error)
    {
        // PKCS#8 carries its algorithm inside; trying each supported type avoids a dependency on an ASN.1 reader.
        var ec = ECDsa.Create();
        try
        {
            ec.ImportPkcs8PrivateKey(der, out _);
            error = null;
            return ec;
        }
        catch (CryptographicException)
        {
            ec.Dispose();
        }

        var rsa = RSA.Create();
        try
        {
            rsa.ImportPkcs8PrivateKey(der, out _);
            error = null;
            return rsa;
        }
        catch (CryptographicException)
        {
            rsa.Dispose();
        }

        error = $"{what}: unsupported PKCS#8 encoded private key type, only ECDSA and RSA private keys are supported";
        return null;
    }
}
