using System.Text;
using Identity.Pki.Pem;

namespace Identity.Pki.Certificates;

/// <summary>step's <c>certificate bundle</c>: the first certificate of each input, re-encoded, leaf then CA.</summary>
public static class CertificateBundle
{
    /// <summary>Builds the bundle PEM.</summary>
    /// <exception cref="PkiException">An input holds no certificate.</exception>
    public static string Create(byte[] certificate, string certificateSource, byte[] ca, string caSource)
    {
        var sb = new StringBuilder();
        sb.Append(CertificatePem.Write(CertificatePem.ReadAll(certificate, certificateSource)[0]));
        sb.Append(CertificatePem.Write(CertificatePem.ReadAll(ca, caSource)[0]));
        return sb.ToString();
    }

    /// <summary>PEM of several certificates, in order.</summary>
    public static string Write(IEnumerable<System.Security.Cryptography.X509Certificates.X509Certificate2> certificates)
    {
        ArgumentNullException.ThrowIfNull(certificates);
        return string.Concat(certificates.Select(c => PemCodec.Encode(PemLabels.Certificate, c.RawData)));
    }
}
