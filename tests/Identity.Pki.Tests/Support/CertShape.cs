using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;

namespace Identity.Pki.Tests.Support;

/// <summary>The date- and key-independent structure of a certificate, for comparing ours with step's.</summary>
internal sealed record CertShape(
    int Version,
    string OuterSignatureAlgorithm,
    string TbsSignatureAlgorithm,
    string SubjectStringTag,
    string IssuerStringTag,
    bool SelfIssued,
    TimeSpan Validity,
    string SpkiAlgorithm,
    string ExtensionOids,
    string ExtensionCriticality,
    string? KeyUsage,
    string? BasicConstraints,
    string? ExtendedKeyUsage,
    string? SubjectAltName)
{
    public static CertShape Of(X509Certificate2 cert)
    {
        var outer = new AsnReader(cert.RawData, AsnEncodingRules.DER).ReadSequence();
        var tbs = outer.ReadSequence();
        var outerAlg = Convert.ToHexString(outer.ReadEncodedValue().Span);
        tbs.ReadEncodedValue(); // [0] version
        tbs.ReadInteger(); // serial
        var tbsAlg = Convert.ToHexString(tbs.ReadEncodedValue().Span);
        var spki = new AsnReader(cert.PublicKey.ExportSubjectPublicKeyInfo(), AsnEncodingRules.DER).ReadSequence();
        var spkiAlg = Convert.ToHexString(spki.ReadEncodedValue().Span);

        string? Hex(string oid) => cert.Extensions[oid] is { } e ? Convert.ToHexString(e.RawData) : null;

        return new CertShape(
            cert.Version,
            outerAlg,
            tbsAlg,
            CnTag(cert.SubjectName),
            CnTag(cert.IssuerName),
            cert.SubjectName.RawData.AsSpan().SequenceEqual(cert.IssuerName.RawData),
            cert.NotAfter - cert.NotBefore,
            spkiAlg,
            string.Join(',', cert.Extensions.Select(e => e.Oid!.Value!)),
            string.Join(',', cert.Extensions.Select(e => e.Critical)),
            Hex("2.5.29.15"),
            Hex("2.5.29.19"),
            Hex("2.5.29.37"),
            Hex("2.5.29.17"));
    }

    public static byte[] KeyBits(X509Certificate2 cert)
    {
        var spki = new AsnReader(cert.PublicKey.ExportSubjectPublicKeyInfo(), AsnEncodingRules.DER).ReadSequence();
        spki.ReadEncodedValue();
        return spki.ReadBitString(out _);
    }

    public static byte[]? Ski(X509Certificate2 cert) =>
        cert.Extensions.OfType<X509SubjectKeyIdentifierExtension>().FirstOrDefault()?.SubjectKeyIdentifierBytes.ToArray();

    public static byte[]? AkiKeyId(X509Certificate2 cert) =>
        cert.Extensions.OfType<X509AuthorityKeyIdentifierExtension>().FirstOrDefault()?.KeyIdentifier?.ToArray();

    private static string CnTag(X500DistinguishedName name)
    {
        var rdn = new AsnReader(name.RawData, AsnEncodingRules.DER).ReadSequence().ReadSetOf().ReadSequence();
        rdn.ReadObjectIdentifier();
        return rdn.PeekTag().ToString();
    }
}
