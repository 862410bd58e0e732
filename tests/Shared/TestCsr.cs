using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Identity.Testing;

/// <summary>Certificate signing requests for tests, the well-formed proxy kind and the hostile kinds.</summary>
internal static class TestCsr
{
    /// <summary>A proxy-style CSR: P-256, CN = identity, one DNS SAN = identity, ECDSA-SHA256.</summary>
    public static byte[] Proxy(string identity, ECDsa? key = null) =>
        Create($"CN={identity}", san => san.AddDnsName(identity), key ?? ECDsa.Create(ECCurve.NamedCurves.nistP256));

    public static byte[] Create(string subject, Action<SubjectAlternativeNameBuilder>? sans, AsymmetricAlgorithm key,
        HashAlgorithmName? hash = null, Action<CertificateRequest>? extra = null)
    {
        var request = key switch
        {
            ECDsa ec => new CertificateRequest(subject, ec, hash ?? HashAlgorithmName.SHA256),
            RSA rsa => new CertificateRequest(subject, rsa, hash ?? HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            _ => throw new ArgumentException("unsupported key type", nameof(key)),
        };
        if (sans is not null)
        {
            var builder = new SubjectAlternativeNameBuilder();
            sans(builder);
            request.CertificateExtensions.Add(builder.Build());
        }

        extra?.Invoke(request);
        return request.CreateSigningRequest();
    }

    /// <summary>A proxy-style CSR signed with ECDSA-SHA1 (which the BCL will not produce by itself).</summary>
    public static byte[] Sha1(string identity)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={identity}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(identity);
        request.CertificateExtensions.Add(san.Build());
        return request.CreateSigningRequest(new Sha1EcdsaGenerator(key));
    }

    /// <summary>
    /// A proxy-style CSR that carries <paramref name="subjectPublicKeyInfo"/> (any bytes, hostile ones included),
    /// signed with an unrelated P-256 key: the key checks must refuse it before the signature matters.
    /// </summary>
    public static byte[] WithPublicKey(string identity, byte[] subjectPublicKeyInfo)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var proxy = new AsnReader(Proxy(identity, key), AsnEncodingRules.DER).ReadSequence();
        var info = proxy.ReadSequence();
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteEncodedValue(info.ReadEncodedValue().Span); // version
            writer.WriteEncodedValue(info.ReadEncodedValue().Span); // subject
            info.ReadEncodedValue();
            writer.WriteEncodedValue(subjectPublicKeyInfo);
            writer.WriteEncodedValue(info.ReadEncodedValue().Span); // attributes
        }

        var infoDer = writer.Encode();
        var csr = new AsnWriter(AsnEncodingRules.DER);
        using (csr.PushSequence())
        {
            csr.WriteEncodedValue(infoDer);
            using (csr.PushSequence())
            {
                csr.WriteObjectIdentifier("1.2.840.10045.4.3.2");
            }

            csr.WriteBitString(key.SignData(infoDer, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        }

        return csr.Encode();
    }

    /// <summary>A valid CSR whose signature's last byte is flipped: still DER, no longer a valid signature.</summary>
    public static byte[] BadSignature(string identity)
    {
        var der = Proxy(identity);
        der[^1] ^= 0x01;
        return der;
    }

    private sealed class Sha1EcdsaGenerator(ECDsa key) : X509SignatureGenerator
    {
        public override byte[] GetSignatureAlgorithmIdentifier(HashAlgorithmName hashAlgorithm)
        {
            var writer = new AsnWriter(AsnEncodingRules.DER);
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier("1.2.840.10045.4.1");
            }

            return writer.Encode();
        }

        public override byte[] SignData(byte[] data, HashAlgorithmName hashAlgorithm) =>
            key.SignData(data, HashAlgorithmName.SHA1, DSASignatureFormat.Rfc3279DerSequence);

        protected override PublicKey BuildPublicKey() => CreateForECDsa(key).PublicKey;
    }
}
