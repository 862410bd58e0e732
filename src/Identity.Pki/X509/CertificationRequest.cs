using System.Formats.Asn1;

namespace Identity.Pki.X509;

/// <summary>
/// A PKCS#10 CertificationRequest decoded in full from DER by the project's one CSR decoder: the signed bytes,
/// subject, public key, requested extensions and subjectAltName, and the signature. Every malformation is a
/// <see cref="Decoded{T}"/> error naming the part at fault; nothing here calls the platform's parsers, whose
/// exceptions depend on the runtime.
/// </summary>
public sealed class CertificationRequest
{
    private const string ExtensionRequestOid = "1.2.840.113549.1.9.14";
    private const string SubjectAltNameOid = "2.5.29.17";

    private CertificationRequest()
    {
    }

    /// <summary>The whole request as encoded.</summary>
    public ReadOnlyMemory<byte> Der { get; private init; }

    /// <summary>The CertificationRequestInfo: the bytes the signature covers.</summary>
    public ReadOnlyMemory<byte> InfoDer { get; private init; }

    /// <summary>The subject.</summary>
    public DistinguishedName Subject { get; private init; } = null!;

    /// <summary>The requested public key; check <see cref="PublicKeyInfo.Problem"/> before using it.</summary>
    public PublicKeyInfo PublicKey { get; private init; } = null!;

    /// <summary>The extensions of the extensionRequest attribute, in order.</summary>
    public IReadOnlyList<RawExtension> Extensions { get; private init; } = [];

    /// <summary>The requested subjectAltName, or null when the request has none.</summary>
    public GeneralNames? SubjectAltNames { get; private init; }

    /// <summary>The signature algorithm OID.</summary>
    public string SignatureAlgorithmOid { get; private init; } = "";

    /// <summary>The signature algorithm when it is one this project verifies.</summary>
    public SignatureAlgorithm? SignatureAlgorithm => X509.SignatureAlgorithm.FromOid(SignatureAlgorithmOid);

    /// <summary>The signature bytes.</summary>
    public ReadOnlyMemory<byte> Signature { get; private init; }

    /// <summary>Whether the signature verifies with the request's own key (proof of possession).</summary>
    public bool VerifySignature() =>
        SignatureAlgorithm is { } algorithm && algorithm.Verify(PublicKey, InfoDer.Span, Signature.Span);

    /// <summary>Decodes a DER request.</summary>
    public static Decoded<CertificationRequest> Decode(ReadOnlyMemory<byte> der)
    {
        ReadOnlyMemory<byte> infoDer, subjectDer, spkiDer, signature;
        string signatureOid;
        var extensions = new List<RawExtension>();
        var error = "not a DER PKCS#10 CertificationRequest";
        try
        {
            var reader = new AsnReader(der, AsnEncodingRules.DER);
            var outer = reader.ReadSequence();
            if (reader.HasData)
            {
                return Fail("unexpected bytes after the CertificationRequest");
            }

            infoDer = outer.PeekEncodedValue();
            var info = outer.ReadSequence();
            error = "malformed signature algorithm";
            (signatureOid, _) = DerReading.ReadAlgorithm(outer);
            error = "malformed signature";
            var whole = DerReading.ReadWholeBytes(outer);
            outer.ThrowIfNotEmpty();
            if (whole is null)
            {
                return Fail("the signature BIT STRING has unused bits");
            }

            signature = whole.Value;
            error = "malformed version";
            if (!info.TryReadInt32(out var version))
            {
                return Fail("malformed version");
            }

            if (version != 0)
            {
                return Fail($"unsupported PKCS#10 version {version}");
            }

            error = "malformed subject";
            subjectDer = info.ReadEncodedValue();
            error = "malformed SubjectPublicKeyInfo";
            spkiDer = info.ReadEncodedValue();
            error = "malformed attributes";
            if (info.HasData)
            {
                var attributes = info.ReadSetOf(skipSortOrderValidation: true, new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true));
                info.ThrowIfNotEmpty();
                var seenExtensionRequest = false;
                while (attributes.HasData)
                {
                    var attribute = attributes.ReadSequence();
                    var type = attribute.ReadObjectIdentifier();
                    var values = attribute.ReadSetOf(skipSortOrderValidation: true);
                    attribute.ThrowIfNotEmpty();
                    if (type != ExtensionRequestOid)
                    {
                        continue;
                    }

                    if (seenExtensionRequest)
                    {
                        return Fail("more than one extensionRequest attribute");
                    }

                    seenExtensionRequest = true;
                    error = "malformed extensionRequest attribute";
                    var requested = values.ReadSequence();
                    if (values.HasData)
                    {
                        return Fail("the extensionRequest attribute has more than one value");
                    }

                    extensions = RawExtension.ReadAll(requested);
                    error = "malformed attributes";
                }
            }
        }
        catch (AsnContentException)
        {
            return Fail(error);
        }

        var subject = DistinguishedName.Decode(subjectDer);
        if (!subject.IsValid)
        {
            return Fail("subject: " + subject.Error);
        }

        var key = PublicKeyInfo.Decode(spkiDer);
        if (!key.IsValid)
        {
            return Fail(key.Error!);
        }

        if (RawExtension.FindDuplicate(extensions) is { } duplicate)
        {
            return Fail($"the extension {duplicate} is requested twice");
        }

        GeneralNames? sans = null;
        if (extensions.Find(e => e.Oid == SubjectAltNameOid) is { } sanExtension)
        {
            var decoded = GeneralNames.Decode(sanExtension.Value);
            if (!decoded.IsValid)
            {
                return Fail(decoded.Error!);
            }

            sans = decoded.Value;
        }

        return Decoded.Ok<CertificationRequest>(new CertificationRequest
        {
            Der = der,
            InfoDer = infoDer,
            Subject = subject.Value!,
            PublicKey = key.Value!,
            Extensions = extensions,
            SubjectAltNames = sans,
            SignatureAlgorithmOid = signatureOid,
            Signature = signature,
        });
    }

    private static Decoded<CertificationRequest> Fail(string error) => Decoded.Fail<CertificationRequest>(error);
}
