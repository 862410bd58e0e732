using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Identity.Pki.X509;

namespace Identity.Pki.Verification;

/// <summary>How the contents of a certificate file were encoded.</summary>
public enum CertificateFileFormat
{
    /// <summary>One or more PEM blocks.</summary>
    Pem,

    /// <summary>A single DER-encoded certificate or certificate request.</summary>
    Der,
}

/// <summary>The parsed contents of a certificate file, in file order.</summary>
public sealed class CertificateFileContents
{
    internal CertificateFileContents(
        string source,
        CertificateFileFormat format,
        IReadOnlyList<X509Certificate2> certificates,
        IReadOnlyList<ReadOnlyMemory<byte>> certificateRequests,
        IReadOnlyList<string> ignoredBlockLabels)
    {
        Source = source;
        Format = format;
        Certificates = certificates;
        CertificateRequests = certificateRequests;
        IgnoredBlockLabels = ignoredBlockLabels;
    }

    /// <summary>The file path (or other description) the data came from, as used in error messages.</summary>
    public string Source { get; }

    /// <summary>PEM or DER.</summary>
    public CertificateFileFormat Format { get; }

    /// <summary>The CERTIFICATE blocks (or the DER certificate), in file order.</summary>
    public IReadOnlyList<X509Certificate2> Certificates { get; }

    /// <summary>The DER of each CERTIFICATE REQUEST block (or the DER request), in file order.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> CertificateRequests { get; }

    /// <summary>Labels of PEM blocks that are neither certificates nor requests (e.g. a private key).</summary>
    public IReadOnlyList<string> IgnoredBlockLabels { get; }
}

/// <summary>
/// Reads certificate files the way operators actually have them: PEM with one or more CERTIFICATE
/// blocks (text before, between and after the blocks is ignored, e.g. <c>openssl x509 -text</c> output or
/// trailing blank lines), or a single DER certificate. Unlike Linkerd's decoder, an extra trailing newline
/// is fine, a non-certificate block does not silently truncate the bundle, and a truncated or corrupt block
/// is an error rather than being skipped.
/// </summary>
/// <remarks>All members are stateless and thread-safe.</remarks>
public static class CertificateFile
{
    private const string BeginMarker = "-----BEGIN";

    /// <summary>Reads and parses a file; throws <see cref="CertificateFileException"/> with a precise message.</summary>
    public static CertificateFileContents Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Parse(ReadAllBytes(path), path);
    }

    /// <summary>Reads a file that must hold at least one certificate (PEM or DER).</summary>
    public static IReadOnlyList<X509Certificate2> ReadCertificates(string path)
    {
        var contents = Read(path);
        return RequireCertificates(contents);
    }

    /// <summary>Parses data that must hold at least one certificate (PEM or DER).</summary>
    public static IReadOnlyList<X509Certificate2> ParseCertificates(ReadOnlySpan<byte> data, string source)
    {
        return RequireCertificates(Parse(data, source));
    }

    /// <summary>
    /// Parses PEM or DER data. <paramref name="source"/> names the data in error messages (usually a path).
    /// </summary>
    public static CertificateFileContents Parse(ReadOnlySpan<byte> data, string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (data.IsEmpty || data.IndexOfAnyExcept(" \t\r\n"u8) < 0)
        {
            throw new CertificateFileException($"{source}: file is empty");
        }

        return data.IndexOf("-----BEGIN"u8) >= 0 ? ParsePem(data, source) : ParseDer(data, source);
    }

    internal static byte[] ReadAllBytes(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new CertificateFileException($"{path}: no such file or directory", ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            // Directories also land here on Unix.
            var reason = Directory.Exists(path) ? "is a directory" : "permission denied";
            throw new CertificateFileException($"{path}: {reason}", ex);
        }
        catch (IOException ex)
        {
            throw new CertificateFileException($"{path}: {ex.Message}", ex);
        }
    }

    private static IReadOnlyList<X509Certificate2> RequireCertificates(CertificateFileContents contents)
    {
        if (contents.Certificates.Count > 0)
        {
            return contents.Certificates;
        }

        if (contents.CertificateRequests.Count > 0)
        {
            throw new CertificateFileException(
                $"{contents.Source}: contains a certificate request, not a certificate");
        }

        var found = contents.IgnoredBlockLabels.Count == 0
            ? string.Empty
            : $" (found {string.Join(", ", contents.IgnoredBlockLabels.Select(l => $"'{l}'"))})";
        throw new CertificateFileException($"{contents.Source}: no CERTIFICATE PEM block found{found}");
    }

    private static CertificateFileContents ParsePem(ReadOnlySpan<byte> data, string source)
    {
        // Latin-1 maps every byte to one char, so arbitrary text around the blocks cannot make decoding fail.
        var text = Encoding.Latin1.GetString(data);
        var certificates = new List<X509Certificate2>();
        var requests = new List<ReadOnlyMemory<byte>>();
        var ignored = new List<string>();
        var offset = 0;
        var blockNumber = 0;
        while (offset < text.Length)
        {
            var rest = text.AsSpan(offset);
            if (!PemEncoding.TryFind(rest, out var fields))
            {
                break;
            }

            // TryFind skips malformed blocks; a BEGIN line before the block it found means one was skipped.
            var skipped = rest[..fields.Location.Start.Value];
            if (skipped.Contains(BeginMarker, StringComparison.Ordinal))
            {
                throw MalformedBlock(source, text, offset + skipped.IndexOf(BeginMarker, StringComparison.Ordinal));
            }

            blockNumber++;
            var label = rest[fields.Label].ToString();
            var der = Convert.FromBase64String(rest[fields.Base64Data].ToString());
            switch (label)
            {
                case "CERTIFICATE":
                    certificates.Add(LoadCertificate(der, source, $"PEM block {blockNumber}"));
                    break;
                case "CERTIFICATE REQUEST":
                case "NEW CERTIFICATE REQUEST":
                    if (CertificationRequest.Decode(der).Error is { } error)
                    {
                        throw new CertificateFileException(
                            $"{source}: PEM block {blockNumber} ({label}) is not a valid PKCS#10 certificate request: {error}");
                    }

                    requests.Add(der);
                    break;
                default:
                    ignored.Add(label);
                    break;
            }

            offset += fields.Location.End.Value;
        }

        var tail = text.AsSpan(offset);
        var begin = tail.IndexOf(BeginMarker, StringComparison.Ordinal);
        if (begin >= 0)
        {
            throw MalformedBlock(source, text, offset + begin);
        }

        return new CertificateFileContents(source, CertificateFileFormat.Pem, certificates, requests, ignored);
    }

    private static CertificateFileException MalformedBlock(string source, string text, int index)
    {
        var line = 1 + text.AsSpan(0, index).Count('\n');
        return new CertificateFileException(
            $"{source}: truncated or malformed PEM block at line {line}");
    }

    private static CertificateFileContents ParseDer(ReadOnlySpan<byte> data, string source)
    {
        int length;
        try
        {
            AsnDecoder.ReadEncodedValue(data, AsnEncodingRules.DER, out _, out _, out length);
        }
        catch (AsnContentException ex)
        {
            throw new CertificateFileException(
                $"{source}: neither PEM nor DER: no '-----BEGIN' line and not valid DER", ex);
        }

        if (length != data.Length)
        {
            throw new CertificateFileException(
                $"{source}: {data.Length - length} unexpected bytes after the DER structure");
        }

        var der = data.ToArray();
        if (CertificationRequest.Decode(der).IsValid)
        {
            return new CertificateFileContents(source, CertificateFileFormat.Der, [], [der], []);
        }

        var certificate = LoadCertificate(der, source, "DER data");
        return new CertificateFileContents(source, CertificateFileFormat.Der, [certificate], [], []);
    }

    private static X509Certificate2 LoadCertificate(byte[] der, string source, string what)
    {
        var loaded = CertificateDecoder.Load(der);
        return loaded.Value ?? throw new CertificateFileException($"{source}: {what} is not a valid X.509 certificate: {loaded.Error}");
    }
}
