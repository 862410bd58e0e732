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

    /// <summary>A certificate's parts; see <see cref="DecodeCertificate"/>.</summary>
    /// <exception cref="PkiException">The certificate is malformed.</exception>
    public static X509Parts ParseCertificate(ReadOnlyMemory<byte> der) => DecodeCertificate(der).ValueOrThrow("certificate");

    /// <summary>
    /// The project's one certificate structure decoder: strict DER, with every malformation reported as a value
    /// that names the part at fault (Go's parser refuses the same inputs).
    /// </summary>
    public static Decoded<X509Parts> DecodeCertificate(ReadOnlyMemory<byte> der)
    {
        var error = "x509: malformed certificate";
        try
        {
            var reader = new AsnReader(der, AsnEncodingRules.DER);
            var outer = reader.ReadSequence();
            reader.ThrowIfNotEmpty();
            var tbsDer = outer.PeekEncodedValue();
            error = "x509: malformed tbs certificate";
            var tbs = outer.ReadSequence();
            error = "x509: malformed signature algorithm identifier";
            var (signatureAlgorithm, _) = DerReading.ReadAlgorithm(outer);
            error = "x509: malformed signature";
            var signature = outer.ReadBitString(out _);
            outer.ThrowIfNotEmpty();

            error = "x509: malformed version";
            var version = 1;
            var versionTag = new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true);
            if (tbs.PeekTag().HasSameClassAndValue(versionTag))
            {
                var explicitVersion = tbs.ReadSequence(versionTag);
                if (!explicitVersion.TryReadInt32(out var encoded) || encoded is < 0 or > 2)
                {
                    return Decoded.Fail<X509Parts>("x509: invalid version");
                }

                explicitVersion.ThrowIfNotEmpty();
                version = encoded + 1;
            }

            error = "x509: malformed serial number";
            var serial = tbs.ReadIntegerBytes();
            error = "x509: malformed signature algorithm identifier";
            DerReading.ReadAlgorithm(tbs);
            error = "x509: malformed issuer";
            var issuer = tbs.ReadEncodedValue();
            error = "x509: malformed validity";
            var validity = tbs.ReadSequence();
            var notBefore = ReadTime(validity);
            var notAfter = ReadTime(validity);
            validity.ThrowIfNotEmpty();
            error = "x509: malformed subject";
            var subject = tbs.ReadEncodedValue();
            error = "x509: malformed spki";
            var spki = tbs.PeekEncodedValue();
            var (keyOid, keyParameters, keyBits) = ReadSpki(tbs);
            error = "x509: malformed extensions";
            var extensions = new List<RawExtension>();
            while (tbs.HasData)
            {
                var tag = tbs.PeekTag();
                if (tag.TagClass == TagClass.ContextSpecific && tag.TagValue == 3)
                {
                    var wrapper = tbs.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 3, isConstructed: true));
                    extensions.AddRange(RawExtension.ReadAll(wrapper.ReadSequence()));
                    wrapper.ThrowIfNotEmpty();
                }
                else
                {
                    error = "x509: malformed issuerUniqueID or subjectUniqueID";
                    tbs.ReadEncodedValue();
                }
            }

            return Decoded.Ok(new X509Parts
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
            });
        }
        catch (AsnContentException)
        {
            return Decoded.Fail<X509Parts>(error);
        }
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
