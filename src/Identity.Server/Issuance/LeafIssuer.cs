using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Identity.Server.Issuance;

/// <summary>A signed leaf: its DER and the facts the audit trail and the response need.</summary>
internal readonly record struct IssuedLeaf(byte[] Der, byte[] Serial, DateTimeOffset NotBefore, DateTimeOffset NotAfter);

/// <summary>
/// Builds leaf certificates from the authenticated identity only (never from CSR subject or extensions), with
/// Linkerd's profile: CN and one DNS SAN = identity, KU digitalSignature|keyEncipherment (critical), EKU
/// serverAuth+clientAuth, AKI = issuer SKI, ECDSA-SHA256, random 128-bit serial.
/// </summary>
/// <remarks>
/// The TBSCertificate is written directly with <see cref="AsnWriter"/> and signed with the issuer key: this is
/// the hot path, and CertificateRequest.Create plus materialising an X509Certificate2 costs several times the
/// signature itself.
/// </remarks>
internal static class LeafIssuer
{
    private const string EcdsaWithSha256 = "1.2.840.10045.4.3.2";

    private const string CommonNameOid = "2.5.4.3";
    private const string SubjectAltNameOid = "2.5.29.17";

    // The fixed extensions, encoded once.
    private static readonly byte[] KeyUsage = EncodeExtension(
        new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, critical: true));

    private static readonly byte[] ExtendedKeyUsage = EncodeExtension(
        new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false));

    /// <summary>
    /// NotBefore = now - skew; NotAfter = min(now + lifetime + skew, earliest NotAfter of the issuer file); both
    /// truncated to whole seconds, the precision a certificate can carry.
    /// </summary>
    public static (DateTimeOffset NotBefore, DateTimeOffset NotAfter) Window(IssuerSnapshot issuer, DateTimeOffset now, TimeSpan lifetime, TimeSpan skew)
    {
        var notAfter = now + lifetime + skew;
        if (notAfter > issuer.FirstExpiration)
        {
            notAfter = issuer.FirstExpiration;
        }

        return (TruncateToSeconds(now - skew), TruncateToSeconds(notAfter));
    }

    public static IssuedLeaf Issue(IssuerSnapshot issuer, string identity, ReadOnlySpan<byte> subjectPublicKeyInfo,
        DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        if (issuer.Key is not ECDsa signer)
        {
            // Linkerd loads an RSA issuer but every signature then fails; keep that behaviour and its message.
            throw new CryptographicException("x509: requested SignatureAlgorithm does not match private key type");
        }

        var serial = new byte[16];
        RandomNumberGenerator.Fill(serial);
        // Positive and exactly 16 bytes in DER: clear the sign bit and keep a non-zero top byte.
        serial[0] = (byte)((serial[0] & 0x7F) | 0x40);

        var tbs = new AsnWriter(AsnEncodingRules.DER, 1024);
        using (tbs.PushSequence())
        {
            using (tbs.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0)))
            {
                tbs.WriteInteger(2); // v3
            }

            tbs.WriteIntegerUnsigned(serial);
            WriteAlgorithm(tbs);
            tbs.WriteEncodedValue(issuer.IssuerName);
            using (tbs.PushSequence())
            {
                WriteTime(tbs, notBefore);
                WriteTime(tbs, notAfter);
            }

            WriteCommonNameSubject(tbs, identity);
            tbs.WriteEncodedValue(subjectPublicKeyInfo);
            using (tbs.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 3)))
            using (tbs.PushSequence())
            {
                tbs.WriteEncodedValue(KeyUsage);
                tbs.WriteEncodedValue(ExtendedKeyUsage);
                WriteSubjectAltName(tbs, identity);
                if (issuer.EncodedAuthorityKeyIdentifier is { } aki)
                {
                    tbs.WriteEncodedValue(aki);
                }
            }
        }

        var tbsDer = tbs.Encode();
        var signature = signer.SignData(tbsDer, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        var certificate = new AsnWriter(AsnEncodingRules.DER, tbsDer.Length + signature.Length + 32);
        using (certificate.PushSequence())
        {
            certificate.WriteEncodedValue(tbsDer);
            WriteAlgorithm(certificate);
            certificate.WriteBitString(signature);
        }

        return new IssuedLeaf(certificate.Encode(), serial, notBefore, notAfter);
    }

    private static DateTimeOffset TruncateToSeconds(DateTimeOffset value) =>
        new(value.UtcTicks - (value.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);

    private static void WriteAlgorithm(AsnWriter writer)
    {
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(EcdsaWithSha256);
        }
    }

    /// <summary>RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.</summary>
    private static void WriteTime(AsnWriter writer, DateTimeOffset value)
    {
        if (value.UtcDateTime.Year < 2050)
        {
            writer.WriteUtcTime(value);
        }
        else
        {
            writer.WriteGeneralizedTime(value, omitFractionalSeconds: true);
        }
    }

    /// <summary>An Extension SEQUENCE (extnID, critical only when true, extnValue) for writing verbatim later.</summary>
    internal static byte[] EncodeExtension(X509Extension extension)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(extension.Oid!.Value!);
            if (extension.Critical)
            {
                writer.WriteBoolean(true);
            }

            writer.WriteOctetString(extension.RawData);
        }

        return writer.Encode();
    }

    /// <summary>Name ::= SEQUENCE { SET { SEQUENCE { id-at-commonName, UTF8String } } }.</summary>
    private static void WriteCommonNameSubject(AsnWriter writer, string identity)
    {
        using (writer.PushSequence())
        using (writer.PushSetOf())
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(CommonNameOid);
            writer.WriteCharacterString(UniversalTagNumber.UTF8String, identity);
        }
    }

    /// <summary>subjectAltName with one dNSName; identities are DNS labels by now, so IA5 always fits.</summary>
    private static void WriteSubjectAltName(AsnWriter writer, string identity)
    {
        var names = new AsnWriter(AsnEncodingRules.DER, 128);
        using (names.PushSequence())
        {
            names.WriteCharacterString(UniversalTagNumber.IA5String, identity, new Asn1Tag(TagClass.ContextSpecific, 2));
        }

        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(SubjectAltNameOid);
            writer.WriteOctetString(names.Encode());
        }
    }
}
