using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Identity.Pki.Verification;

/// <summary>
/// An immutable set of trust anchors (roots). Several roots in one bundle are normal: that is how a root is
/// rotated (old and new side by side). Anchors are only ever these explicit certificates, never the
/// operating system's store.
/// </summary>
/// <remarks>
/// Thread-safety: a bundle never changes after construction, so one instance can be shared by any number of
/// concurrent <see cref="ChainVerifier"/> calls. To change anchors, build a new bundle and swap the reference.
/// The bundle owns its certificates; they live as long as the process normally does, so it is not disposable.
/// </remarks>
public sealed class TrustBundle
{
    private readonly HashSet<string> _thumbprints;

    private TrustBundle(IReadOnlyList<X509Certificate2> certificates)
    {
        Certificates = certificates;
        Decoded = certificates.Select(PathCertificate.Of).ToArray();
        _thumbprints = new HashSet<string>(
            certificates.Select(c => c.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256)),
            StringComparer.Ordinal);
    }

    /// <summary>The anchors, in the order they were read, without duplicates.</summary>
    public IReadOnlyList<X509Certificate2> Certificates { get; }

    /// <summary>
    /// Loads anchors from a file (PEM with one or more CERTIFICATE blocks, or DER), a comma-separated list of
    /// files, or a directory (every regular file in it that holds certificates; others are skipped).
    /// Throws <see cref="CertificateFileException"/> when a path cannot be read or no certificate is found.
    /// </summary>
    public static TrustBundle Load(string pathSpec)
    {
        ArgumentNullException.ThrowIfNull(pathSpec);
        if (string.IsNullOrWhiteSpace(pathSpec))
        {
            throw new CertificateFileException("roots: no path given");
        }

        if (Directory.Exists(pathSpec))
        {
            return FromDirectory(pathSpec);
        }

        var certificates = new List<X509Certificate2>();
        foreach (var part in pathSpec.Split(','))
        {
            var path = part.Trim();
            if (path.Length == 0)
            {
                throw new CertificateFileException($"roots: empty path in list '{pathSpec}'");
            }

            if (Directory.Exists(path))
            {
                certificates.AddRange(FromDirectory(path).Certificates);
                continue;
            }

            certificates.AddRange(CertificateFile.ReadCertificates(path));
        }

        return FromCertificates(certificates);
    }

    /// <summary>Parses PEM text holding one or more CERTIFICATE blocks.</summary>
    public static TrustBundle FromPem(string pem)
    {
        ArgumentNullException.ThrowIfNull(pem);
        return FromCertificates(CertificateFile.ParseCertificates(Encoding.UTF8.GetBytes(pem), "trust bundle"));
    }

    /// <summary>Builds a bundle from certificates already loaded. Duplicates are dropped.</summary>
    public static TrustBundle FromCertificates(IEnumerable<X509Certificate2> certificates)
    {
        ArgumentNullException.ThrowIfNull(certificates);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var unique = new List<X509Certificate2>();
        foreach (var certificate in certificates)
        {
            ArgumentNullException.ThrowIfNull(certificate);
            if (seen.Add(certificate.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256)))
            {
                unique.Add(certificate);
            }
        }

        if (unique.Count == 0)
        {
            throw new CertificateFileException("trust bundle is empty: no certificates");
        }

        return new TrustBundle(unique);
    }

    /// <summary>True when <paramref name="certificate"/> (byte for byte) is one of the anchors.</summary>
    public bool Contains(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return _thumbprints.Contains(certificate.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256));
    }

    /// <summary>The anchors as concatenated PEM CERTIFICATE blocks (64-column lines, each block ending in a newline).</summary>
    public string ToPem()
    {
        var builder = new StringBuilder();
        foreach (var certificate in Certificates)
        {
            builder.Append(System.Security.Cryptography.PemEncoding.Write("CERTIFICATE", certificate.RawData)).Append('\n');
        }

        return builder.ToString();
    }

    /// <summary>The anchors decoded for path building, in <see cref="Certificates"/>' order.</summary>
    internal IReadOnlyList<PathCertificate> Decoded { get; }

    private static TrustBundle FromDirectory(string directory)
    {
        var certificates = new List<X509Certificate2>();
        string[] files;
        try
        {
            files = Directory.GetFiles(directory);
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            throw new CertificateFileException($"{directory}: cannot list directory: {ex.Message}", ex);
        }

        Array.Sort(files, StringComparer.Ordinal);
        foreach (var file in files)
        {
            // A roots directory often holds other files (README, hash links, keys). A file that is not PEM and
            // not DER is skipped; an unreadable file or a corrupt PEM block is still an error.
            var data = CertificateFile.ReadAllBytes(file);
            CertificateFileContents contents;
            try
            {
                contents = CertificateFile.Parse(data, file);
            }
            catch (CertificateFileException) when (data.AsSpan().IndexOf("-----BEGIN"u8) < 0)
            {
                continue;
            }

            certificates.AddRange(contents.Certificates);
        }

        if (certificates.Count == 0)
        {
            throw new CertificateFileException($"{directory}: no certificates found in directory");
        }

        return FromCertificates(certificates);
    }
}
