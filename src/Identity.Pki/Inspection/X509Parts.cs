using System.Formats.Asn1;
using System.Numerics;

namespace Identity.Pki.Inspection;

/// <summary>One extension as it appears on the wire.</summary>
internal sealed record RawExtension(string Oid, bool Critical, ReadOnlyMemory<byte> Value);

/// <summary>
/// The fields of a certificate or PKCS#10 request, read straight from the DER so that output can show exactly
/// what is encoded (RDN order, extension order, minimal integers) rather than what a platform API normalizes.
/// </summary>
internal sealed class X509Parts
{
    public bool IsRequest { get; private init; }

    public ReadOnlyMemory<byte> Der { get; private init; }

    public ReadOnlyMemory<byte> TbsDer { get; private init; }

    /// <summary>1-based X.509 version (3 for v3); the raw PKCS#10 version (0) for requests.</summary>
    public int Version { get; private init; }

    /// <summary>Serial as encoded (two's complement, big-endian); empty for requests.</summary>
    public ReadOnlyMemory<byte> Serial { get; private init; }

    public ReadOnlyMemory<byte> IssuerDer { get; private init; }

    public ReadOnlyMemory<byte> SubjectDer { get; private init; }

    public DateTimeOffset NotBefore { get; private init; }

    public DateTimeOffset NotAfter { get; private init; }

    public ReadOnlyMemory<byte> SpkiDer { get; private init; }

    public string KeyAlgorithmOid { get; private init; } = "";

    public ReadOnlyMemory<byte>? KeyParameters { get; private init; }

    public ReadOnlyMemory<byte> KeyBits { get; private init; }

    public IReadOnlyList<RawExtension> Extensions { get; private init; } = [];

    public string SignatureAlgorithmOid { get; private init; } = "";

    public ReadOnlyMemory<byte> Signature { get; private init; }

    public BigInteger SerialNumber => new(Serial.Span, isUnsigned: false, isBigEndian: true);

    public RawExtension? Find(string oid) => Extensions.FirstOrDefault(e => e.Oid == oid);

    public static X509Parts ParseCertificate(ReadOnlyMemory<byte> der)
    {
        var outer = new AsnReader(der, AsnEncodingRules.DER).ReadSequence();
        var tbsDer = outer.PeekEncodedValue();
        var tbs = outer.ReadSequence();
        var signatureAlgorithm = ReadAlgorithm(outer, out _);
        var signature = outer.ReadBitString(out _);

        var version = 1;
        var versionTag = new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true);
        if (tbs.PeekTag().HasSameClassAndValue(versionTag))
        {
            var explicitVersion = tbs.ReadSequence(versionTag);
            version = (int)explicitVersion.ReadInteger() + 1;
        }

        var serial = tbs.ReadIntegerBytes();
        ReadAlgorithm(tbs, out _);
        var issuer = tbs.ReadEncodedValue();
        var validity = tbs.ReadSequence();
        var notBefore = ReadTime(validity);
        var notAfter = ReadTime(validity);
        var subject = tbs.ReadEncodedValue();
        var spki = tbs.PeekEncodedValue();
        var (keyOid, keyParameters, keyBits) = ReadSpki(tbs);
        var extensions = new List<RawExtension>();
        while (tbs.HasData)
        {
            var tag = tbs.PeekTag();
            if (tag.TagClass == TagClass.ContextSpecific && tag.TagValue == 3)
            {
                var wrapper = tbs.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 3, isConstructed: true));
                extensions.AddRange(ReadExtensions(wrapper.ReadSequence()));
            }
            else
            {
                tbs.ReadEncodedValue(); // issuer/subject unique IDs
            }
        }

        return new X509Parts
        {
            Der = der,
            TbsDer = tbsDer,
            Version = version,
            Serial = serial,
            IssuerDer = issuer,
            SubjectDer = subject,
            NotBefore = notBefore,
            NotAfter = notAfter,
            SpkiDer = spki,
            KeyAlgorithmOid = keyOid,
            KeyParameters = keyParameters,
            KeyBits = keyBits,
            Extensions = extensions,
            SignatureAlgorithmOid = signatureAlgorithm,
            Signature = signature,
        };
    }

    public static X509Parts ParseRequest(ReadOnlyMemory<byte> der)
    {
        var outer = new AsnReader(der, AsnEncodingRules.DER).ReadSequence();
        var infoDer = outer.PeekEncodedValue();
        var info = outer.ReadSequence();
        var signatureAlgorithm = ReadAlgorithm(outer, out _);
        var signature = outer.ReadBitString(out _);

        var version = (int)info.ReadInteger();
        var subject = info.ReadEncodedValue();
        var spki = info.PeekEncodedValue();
        var (keyOid, keyParameters, keyBits) = ReadSpki(info);
        var extensions = new List<RawExtension>();
        if (info.HasData)
        {
            var attributes = info.ReadSetOf(skipSortOrderValidation: true, new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true));
            while (attributes.HasData)
            {
                var attribute = attributes.ReadSequence();
                var type = attribute.ReadObjectIdentifier();
                var values = attribute.ReadSetOf(skipSortOrderValidation: true);
                if (type == "1.2.840.113549.1.9.14")
                {
                    while (values.HasData)
                    {
                        extensions.AddRange(ReadExtensions(values.ReadSequence()));
                    }
                }
            }
        }

        return new X509Parts
        {
            IsRequest = true,
            Der = der,
            TbsDer = infoDer,
            Version = version,
            SubjectDer = subject,
            IssuerDer = ReadOnlyMemory<byte>.Empty,
            SpkiDer = spki,
            KeyAlgorithmOid = keyOid,
            KeyParameters = keyParameters,
            KeyBits = keyBits,
            Extensions = extensions,
            SignatureAlgorithmOid = signatureAlgorithm,
            Signature = signature,
        };
    }

    private static (string Oid, ReadOnlyMemory<byte>? Parameters, ReadOnlyMemory<byte> Bits) ReadSpki(AsnReader reader)
    {
        var spki = reader.ReadSequence();
        var oid = ReadAlgorithm(spki, out var parameters);
        var bits = spki.ReadBitString(out _);
        return (oid, parameters, bits);
    }

    private static string ReadAlgorithm(AsnReader reader, out ReadOnlyMemory<byte>? parameters)
    {
        var algorithm = reader.ReadSequence();
        var oid = algorithm.ReadObjectIdentifier();
        parameters = algorithm.HasData ? algorithm.ReadEncodedValue() : null;
        return oid;
    }

    private static DateTimeOffset ReadTime(AsnReader reader) =>
        reader.PeekTag().HasSameClassAndValue(Asn1Tag.UtcTime)
            ? reader.ReadUtcTime(twoDigitYearMax: 2049)
            : reader.ReadGeneralizedTime();

    private static List<RawExtension> ReadExtensions(AsnReader sequence)
    {
        var list = new List<RawExtension>();
        while (sequence.HasData)
        {
            var extension = sequence.ReadSequence();
            var oid = extension.ReadObjectIdentifier();
            var critical = extension.PeekTag().HasSameClassAndValue(Asn1Tag.Boolean) && extension.ReadBoolean();
            var value = extension.ReadOctetString();
            list.Add(new RawExtension(oid, critical, value));
        }

        return list;
    }
}
