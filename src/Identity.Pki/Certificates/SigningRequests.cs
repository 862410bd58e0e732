using System.Formats.Asn1;
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
            if (blocks.Count == 0)
            {
                throw new PkiException($"error decoding {source}: no PEM block found");
            }

            var block = blocks.FirstOrDefault(b => b.Label is PemLabels.CertificateRequest or "NEW CERTIFICATE REQUEST")
                ?? throw new PkiException($"error decoding {source}: unsupported PEM block type '{blocks[0].Label}' (expected CERTIFICATE REQUEST)");
            der = block.Der;
        }

        return SpkiAlgorithm(der, source) == Oids.Ed25519 ? ReadWithBouncyCastle(der, source) : ReadWithPlatform(der, source);
    }

    // EC and RSA requests: the platform parser verifies the signature (no SkipSignatureValidation flag).
    private static SigningRequest ReadWithPlatform(byte[] der, string source)
    {
        CertificateRequest request;
        try
        {
            request = CertificateRequest.LoadSigningRequest(
                der,
                HashAlgorithmName.SHA256,
                CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions,
                RSASignaturePadding.Pkcs1);
        }
        catch (CryptographicException e)
        {
            throw new PkiException($"error verifying {source}: the certificate signing request signature is not valid or the request is malformed", e);
        }

        var sans = new SubjectAlternativeNames([], [], [], []);
        foreach (var extension in request.CertificateExtensions)
        {
            if (extension.Oid?.Value == Oids.SubjectAltName)
            {
                sans = SubjectAlternativeNames.Decode(extension.RawData);
            }
        }

        return new SigningRequest(
            request.SubjectName.GetSingleElementValue(Oids.CommonName) ?? string.Empty,
            sans,
            request.PublicKey.ExportSubjectPublicKeyInfo());
    }

    // The BCL cannot verify Ed25519 signatures; BouncyCastle can.
    private static SigningRequest ReadWithBouncyCastle(byte[] der, string source)
    {
        Pkcs10CertificationRequest request;
        try
        {
            request = new Pkcs10CertificationRequest(der);
        }
        catch (Exception e) when (e is ArgumentException or InvalidCastException or IOException or InvalidOperationException)
        {
            throw new PkiException($"error parsing {source}: not a valid certificate signing request", e);
        }

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
        var subject = new X500DistinguishedName(info.Subject.GetDerEncoded());
        var sans = new SubjectAlternativeNames([], [], [], []);
        var sanExtension = request.GetRequestedExtensions()?.GetExtension(Org.BouncyCastle.Asn1.X509.X509Extensions.SubjectAlternativeName);
        if (sanExtension is not null)
        {
            sans = SubjectAlternativeNames.Decode(sanExtension.Value.GetOctets());
        }

        return new SigningRequest(subject.GetSingleElementValue(Oids.CommonName) ?? string.Empty, sans, info.SubjectPublicKeyInfo.GetDerEncoded());
    }

    private static string SpkiAlgorithm(byte[] der, string source)
    {
        try
        {
            var info = new AsnReader(der, AsnEncodingRules.DER).ReadSequence().ReadSequence();
            _ = info.ReadInteger();
            _ = info.ReadEncodedValue();
            return info.ReadSequence().ReadSequence().ReadObjectIdentifier();
        }
        catch (AsnContentException e)
        {
            throw new PkiException($"error parsing {source}: not a valid certificate signing request", e);
        }
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
