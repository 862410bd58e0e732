using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Identity.Pki.Keys;
using Identity.Pki.Pem;
using Identity.Pki.X509;

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

        // One decoder for every CSR in the project; the signature is checked with the request's own key.
        var decoded = CertificationRequest.Decode(der);
        if (decoded.Value is not { } request)
        {
            throw new PkiException($"error parsing {source}: not a valid certificate signing request: {decoded.Error}");
        }

        if (request.PublicKey.Problem is { } problem)
        {
            throw new PkiException($"error parsing {source}: {problem}");
        }

        if (request.SignatureAlgorithm is null)
        {
            throw new PkiException($"error verifying {source}: unsupported signature algorithm {SignatureAlgorithm.NameOf(request.SignatureAlgorithmOid)}");
        }

        if (!request.VerifySignature())
        {
            throw new PkiException($"error verifying {source}: the certificate signing request signature is not valid");
        }

        return new SigningRequest(
            request.Subject.CommonName ?? string.Empty,
            request.SubjectAltNames is { } sans ? SubjectAlternativeNames.From(sans) : new SubjectAlternativeNames([], [], [], []),
            request.PublicKey.Der.ToArray());
    }
}
