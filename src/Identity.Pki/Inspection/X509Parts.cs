using System.Formats.Asn1;
using System.Numerics;
using Identity.Pki.X509;

namespace Identity.Pki.Inspection;

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
        var (signatureAlgorithm, _) = DerReading.ReadAlgorithm(outer);
        var signature = outer.ReadBitString(out _);

        var version = 1;
        var versionTag = new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true);
        if (tbs.PeekTag().HasSameClassAndValue(versionTag))
        {
            var explicitVersion = tbs.ReadSequence(versionTag);
            version = (int)explicitVersion.ReadInteger() + 1;
        }

        var serial = tbs.ReadIntegerBytes();
        DerReading.ReadAlgorithm(tbs);
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
                extensions.AddRange(RawExtension.ReadAll(wrapper.ReadSequence()));
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

    /// <summary>A request's parts, from the project's one CSR decoder.</summary>
    /// <exception cref="PkiException">The request is malformed.</exception>
    public static X509Parts ParseRequest(ReadOnlyMemory<byte> der)
    {
        var request = CertificationRequest.Decode(der).ValueOrThrow("certificate signing request");
        var key = request.PublicKey;
        return new X509Parts
        {
            IsRequest = true,
            Der = der,
            TbsDer = request.InfoDer,
            Version = 0,
            SubjectDer = request.Subject.Der,
            IssuerDer = ReadOnlyMemory<byte>.Empty,
            SpkiDer = key.Der,
            KeyAlgorithmOid = key.AlgorithmOid,
            KeyParameters = key.Parameters,
            KeyBits = key.KeyBits,
            Extensions = request.Extensions,
            SignatureAlgorithmOid = request.SignatureAlgorithmOid,
            Signature = request.Signature,
        };
    }

    private static (string Oid, ReadOnlyMemory<byte>? Parameters, ReadOnlyMemory<byte> Bits) ReadSpki(AsnReader reader)
    {
        var spki = reader.ReadSequence();
        var (oid, parameters) = DerReading.ReadAlgorithm(spki);
        var bits = spki.ReadBitString(out _);
        return (oid, parameters, bits);
    }

    private static DateTimeOffset ReadTime(AsnReader reader) =>
        reader.PeekTag().HasSameClassAndValue(Asn1Tag.UtcTime)
            ? reader.ReadUtcTime(twoDigitYearMax: 2049)
            : reader.ReadGeneralizedTime();
}
