using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Identity.Cli.Check;

/// <summary>
/// Whether a certificate is self-signed: its issuer is its subject and its own key verifies its signature.
/// Chain building cannot answer this: OpenSSL does not check the signature of a certificate it is told to trust.
/// </summary>
internal static class SelfSignature
{
    public static bool IsSelfSigned(X509Certificate2 certificate)
    {
        if (!certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData))
        {
            return false;
        }

        try
        {
            var reader = new AsnReader(certificate.RawDataMemory, AsnEncodingRules.DER);
            var outer = reader.ReadSequence();
            var tbs = outer.ReadEncodedValue();
            var algorithm = outer.ReadSequence().ReadObjectIdentifier();
            var signature = outer.ReadBitString(out _);
            return algorithm switch
            {
                "1.2.840.10045.4.3.2" => VerifyEc(certificate, tbs, signature, HashAlgorithmName.SHA256),
                "1.2.840.10045.4.3.3" => VerifyEc(certificate, tbs, signature, HashAlgorithmName.SHA384),
                "1.2.840.10045.4.3.4" => VerifyEc(certificate, tbs, signature, HashAlgorithmName.SHA512),
                "1.2.840.113549.1.1.11" => VerifyRsa(certificate, tbs, signature, HashAlgorithmName.SHA256),
                "1.2.840.113549.1.1.12" => VerifyRsa(certificate, tbs, signature, HashAlgorithmName.SHA384),
                "1.2.840.113549.1.1.13" => VerifyRsa(certificate, tbs, signature, HashAlgorithmName.SHA512),
                _ => false,
            };
        }
        catch (Exception ex) when (ex is AsnContentException or CryptographicException)
        {
            return false;
        }
    }

    private static bool VerifyEc(X509Certificate2 certificate, ReadOnlyMemory<byte> tbs, byte[] signature, HashAlgorithmName hash)
    {
        using var key = certificate.GetECDsaPublicKey();
        return key is not null && key.VerifyData(tbs.Span, signature, hash, DSASignatureFormat.Rfc3279DerSequence);
    }

    private static bool VerifyRsa(X509Certificate2 certificate, ReadOnlyMemory<byte> tbs, byte[] signature, HashAlgorithmName hash)
    {
        using var key = certificate.GetRSAPublicKey();
        return key is not null && key.VerifyData(tbs.Span, signature, hash, RSASignaturePadding.Pkcs1);
    }
}
