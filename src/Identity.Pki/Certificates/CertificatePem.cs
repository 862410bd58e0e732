using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Identity.Pki.Pem;
using Identity.Pki.X509;

namespace Identity.Pki.Certificates;

/// <summary>Reads and writes certificates as PEM (or DER on input).</summary>
public static class CertificatePem
{
    /// <summary>
    /// Reads exactly one certificate (PEM or DER), like step's <c>pemutil.ReadCertificate</c>: a file with
    /// more than one PEM block is refused.
    /// </summary>
    public static X509Certificate2 ReadSingle(byte[] data, string source)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!PemCodec.LooksLikePem(data))
        {
            return Load(data, source);
        }

        var blocks = PemCodec.Decode(Encoding.ASCII.GetString(data), source);
        if (blocks.Count == 0)
        {
            throw new PkiException($"error decoding {source}: no PEM block found");
        }

        if (blocks.Count > 1)
        {
            throw new PkiException($"error decoding {source}: contains more than one PEM encoded block");
        }

        return FromBlock(blocks[0], source);
    }

    /// <summary>Reads every CERTIFICATE block of a PEM file (at least one), or a single DER certificate.</summary>
    public static IReadOnlyList<X509Certificate2> ReadAll(byte[] data, string source)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!PemCodec.LooksLikePem(data))
        {
            return [Load(data, source)];
        }

        var blocks = PemCodec.Decode(Encoding.ASCII.GetString(data), source);
        var certificates = blocks.Where(b => b.Label == PemLabels.Certificate).Select(b => FromBlock(b, source)).ToList();
        if (certificates.Count == 0)
        {
            throw new PkiException($"error decoding {source}: no CERTIFICATE block found");
        }

        return certificates;
    }

    /// <summary>PEM of one certificate (64-column lines, trailing newline).</summary>
    public static string Write(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return PemCodec.Encode(PemLabels.Certificate, certificate.RawData);
    }

    private static X509Certificate2 FromBlock(PemBlock block, string source)
    {
        if (block.Label != PemLabels.Certificate)
        {
            throw new PkiException($"error decoding {source}: unsupported PEM block type '{block.Label}' (expected CERTIFICATE)");
        }

        return Load(block.Der, source);
    }

    private static X509Certificate2 Load(byte[] der, string source) =>
        CertificateDecoder.Load(der).Value ?? throw new PkiException($"error parsing {source}: not a valid X.509 certificate");
}
