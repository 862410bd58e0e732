using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Identity.Pki.Keys;
using Identity.Pki.Pem;
using Org.BouncyCastle.Pkcs;

namespace Identity.Pki.Certificates;

/// <summary>A parsed, signature-verified PKCS#10 request.</summary>
/// <param name="CommonName">The subject CN (empty when absent).</param>
/// <param name="Sans">The requested SANs, classified.</param>
/// <param name="SubjectPublicKeyInfo">DER SubjectPublicKeyInfo of the requested key.</param>
public sealed record SigningRequest(string CommonName, SubjectAlternativeNames Sans, byte[] SubjectPublicKeyInfo);

/// <summary>Creates and reads PKCS#10 certificate signing requests.</summary>
public static class SigningRequests
{
    /// <summary>
    /// step's <c>--csr</c>: version 0, <c>CN=&lt;subject&gt;</c>, a SAN extensionRequest (the subject when no SAN
    /// is given), signed by <paramref name="key"/>.
    /// </summary>
    public static byte[] Create(string subject, IReadOnlyList<string> sans, PrivateKey key)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(sans);
        ArgumentNullException.ThrowIfNull(key);
        var publicKey = PublicKey.CreateFromSubjectPublicKeyInfo(key.ExportSubjectPublicKeyInfo(), out _);
        var request = new CertificateRequest(SubjectName.CommonName(subject), publicKey, key.SignatureHash);
        var names = SubjectAlternativeNames.Classify(sans.Count > 0 ? sans : [subject]);
        if (!names.IsEmpty)
        {
            request.CertificateExtensions.Add(new X509Extension(Oids.SubjectAltName, names.Encode(), critical: false));
        }

        return request.CreateSigningRequest(key.CreateSignatureGenerator());
    }

    /// <summary>Reads a CSR (PEM or DER) and verifies its self-signature.</summary>
    /// <exception cref="PkiException">Garbage, wrong block type, or a signature that does not verify.</exception>
    public static SigningRequest Read(byte[] data, string source)
    {
        ArgumentNullException.ThrowIfNull(data);
        var der = data;
        if (PemCodec.LooksLikePem(data))
        {
            var blocks = PemCodec.Decode(Encoding.ASCII.GetString(data), source);
            var block = blocks.FirstOrDefault(b => b.Label is PemLabels.CertificateRequest or "NEW CERTIFICATE REQUEST")
                ?? throw new PkiException($"error decoding {source}: unsupported PEM block type '{blocks[0].Label}' (expected CERTIFICATE REQUEST)");
            der = block.Der;
        }

        Pkcs10CertificationRequest request;
        try
        {
            request = new Pkcs10CertificationRequest(der);
        }
        catch (Exception e) when (e is ArgumentException or InvalidCastException or IOException or InvalidOperationException)
        {
            throw new PkiException($"error parsing {source}: not a valid certificate signing request", e);
        }

        // BouncyCastle verifies every algorithm step can produce, Ed25519 included, which the BCL's
        // CertificateRequest.LoadSigningRequest cannot.
        bool valid;
        try
        {
            valid = request.Verify();
        }
        catch (Exception e) when (e is ArgumentException or InvalidCastException or IOException or InvalidOperationException or Org.BouncyCastle.Security.SecurityUtilityException or CryptographicException)
        {
            throw new PkiException($"error verifying {source}: unsupported or malformed signature", e);
        }

        if (!valid)
        {
            throw new PkiException($"error verifying {source}: the certificate signing request signature is not valid");
        }

        var info = request.GetCertificationRequestInfo();
        var spki = info.SubjectPublicKeyInfo.GetDerEncoded();
        var subject = new X500DistinguishedName(info.Subject.GetDerEncoded());
        var commonName = subject.GetSingleElementValue(Oids.CommonName) ?? string.Empty;

        var sans = new SubjectAlternativeNames([], [], [], []);
        var extensions = request.GetRequestedExtensions();
        var sanExtension = extensions?.GetExtension(Org.BouncyCastle.Asn1.X509.X509Extensions.SubjectAlternativeName);
        if (sanExtension is not null)
        {
            sans = SubjectAlternativeNames.Decode(sanExtension.Value.GetOctets());
        }

        return new SigningRequest(commonName, sans, spki);
    }

    private static string? GetSingleElementValue(this X500DistinguishedName name, string oid)
    {
        foreach (var rdn in name.EnumerateRelativeDistinguishedNames())
        {
            if (!rdn.HasMultipleElements && rdn.GetSingleElementType().Value == oid)
            {
                return rdn.GetSingleElementValue();
            }
        }

        return null;
    }
}
