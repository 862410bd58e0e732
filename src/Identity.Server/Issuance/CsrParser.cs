using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Formats.Asn1;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Identity.Server.Issuance;

/// <summary>What the Certify checks need from a CSR, parsed once and immutable.</summary>
internal sealed record ParsedCsr(
    string? CommonName,
    ImmutableArray<string> DnsNames,
    bool HasEmail,
    bool HasIp,
    bool HasUri,
    PublicKey PublicKey,
    byte[] SubjectPublicKeyInfo,
    string KeyAlgorithm,
    string? CurveName,
    string SignatureAlgorithm,
    bool SignatureIsSha1,
    bool SignatureValid)
{
    public bool IsEcdsa => KeyAlgorithm == "ECDSA";

    public bool IsP256 => CurveName == "P-256";
}

/// <summary>Raised when the bytes are not a DER PKCS#10 request.</summary>
internal sealed class CsrFormatException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Parses DER PKCS#10 requests and verifies their signature (proof of possession), remembering results by a
/// SHA-256 of the bytes: proxies resend the same CSR on every renewal, so the verify is paid once per proxy.
/// </summary>
internal sealed class CsrParser(int capacity)
{
    private const string EcPublicKeyOid = "1.2.840.10045.2.1";
    private const string RsaOid = "1.2.840.113549.1.1.1";
    private const string SanOid = "2.5.29.17";
    private const string CommonNameOid = "2.5.4.3";

    private readonly ConcurrentDictionary<CsrKey, ParsedCsr> cache = new();

    public int CachedCount => cache.Count;

    public ParsedCsr Parse(ReadOnlySpan<byte> der)
    {
        if (capacity == 0)
        {
            return ParseUncached(der);
        }

        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(der, digest);
        var key = MemoryMarshal.Read<CsrKey>(digest);
        if (cache.TryGetValue(key, out var parsed))
        {
            return parsed;
        }

        parsed = ParseUncached(der);
        if (cache.Count >= capacity)
        {
            // Bounded without LRU bookkeeping on the hot path: a full cache is dropped and refills with the
            // CSRs of live proxies within one renewal round.
            cache.Clear();
        }

        cache.TryAdd(key, parsed);
        return parsed;
    }

    public static ParsedCsr ParseUncached(ReadOnlySpan<byte> der)
    {
        byte[] info;
        string signatureOid;
        byte[] signature;
        CertificateRequest request;
        try
        {
            var reader = new AsnReader(der.ToArray(), AsnEncodingRules.DER);
            var outer = reader.ReadSequence();
            reader.ThrowIfNotEmpty();
            info = outer.ReadEncodedValue().ToArray();
            var algorithm = outer.ReadSequence();
            signatureOid = algorithm.ReadObjectIdentifier();
            signature = outer.ReadBitString(out _);
            outer.ThrowIfNotEmpty();
            request = CertificateRequest.LoadSigningRequest(der.ToArray(), HashAlgorithmName.SHA256,
                CertificateRequestLoadOptions.SkipSignatureValidation | CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
        }
        catch (Exception e) when (e is AsnContentException or CryptographicException or ArgumentException)
        {
            // A fixed text: the parser's own wording differs between runtimes and would make the contract unstable.
            throw new CsrFormatException("failed to parse certificate signing request: not a DER PKCS#10 CertificationRequest", e);
        }

        var (dns, email, ip, uri) = ReadSubjectAltNames(request.CertificateExtensions);
        var key = request.PublicKey;
        var (keyAlgorithm, curve) = DescribeKey(key);
        var (hash, isSha1, family) = DescribeSignature(signatureOid);
        var valid = hash is { } h && Verify(key, family, h, info, signature);
        return new ParsedCsr(CommonName(request.SubjectName), dns, email, ip, uri, key, key.ExportSubjectPublicKeyInfo(), keyAlgorithm, curve,
            signatureOid, isSha1, valid);
    }

    private static string? CommonName(X500DistinguishedName name)
    {
        string? cn = null;
        foreach (var rdn in name.EnumerateRelativeDistinguishedNames())
        {
            // Go keeps the last CN it sees; do the same so "CN mismatch" means what it means for Linkerd.
            if (!rdn.HasMultipleElements && rdn.GetSingleElementType().Value == CommonNameOid)
            {
                cn = rdn.GetSingleElementValue();
            }
        }

        return cn;
    }

    private static (ImmutableArray<string> Dns, bool Email, bool Ip, bool Uri) ReadSubjectAltNames(IEnumerable<X509Extension> extensions)
    {
        var dns = ImmutableArray.CreateBuilder<string>();
        bool email = false, ip = false, uri = false;
        foreach (var ext in extensions)
        {
            if (ext.Oid?.Value != SanOid)
            {
                continue;
            }

            try
            {
                var names = new AsnReader(ext.RawData, AsnEncodingRules.DER).ReadSequence();
                while (names.HasData)
                {
                    var tag = names.PeekTag();
                    if (tag.TagClass != TagClass.ContextSpecific)
                    {
                        names.ReadEncodedValue();
                        continue;
                    }

                    switch (tag.TagValue)
                    {
                        case 1:
                            email = true;
                            names.ReadEncodedValue();
                            break;
                        case 2:
                            dns.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, tag));
                            break;
                        case 6:
                            uri = true;
                            names.ReadEncodedValue();
                            break;
                        case 7:
                            ip = true;
                            names.ReadEncodedValue();
                            break;
                        default:
                            names.ReadEncodedValue();
                            break;
                    }
                }
            }
            catch (AsnContentException e)
            {
                throw new CsrFormatException("failed to parse certificate signing request: malformed subjectAltName extension", e);
            }
        }

        return (dns.ToImmutable(), email, ip, uri);
    }

    private static (string Algorithm, string? Curve) DescribeKey(PublicKey key)
    {
        switch (key.Oid.Value)
        {
            case EcPublicKeyOid:
                var curveOid = key.EncodedParameters?.RawData is { Length: > 0 } p
                    ? new AsnReader(p, AsnEncodingRules.DER).ReadObjectIdentifier()
                    : null;
                return ("ECDSA", curveOid switch
                {
                    "1.2.840.10045.3.1.7" => "P-256",
                    "1.3.132.0.34" => "P-384",
                    "1.3.132.0.35" => "P-521",
                    _ => curveOid,
                });
            case RsaOid:
                return ("RSA", null);
            default:
                return (key.Oid.FriendlyName ?? key.Oid.Value ?? "unknown", null);
        }
    }

    private static (HashAlgorithmName? Hash, bool IsSha1, string Family) DescribeSignature(string oid) => oid switch
    {
        "1.2.840.10045.4.1" => (HashAlgorithmName.SHA1, true, "ECDSA"),
        "1.2.840.10045.4.3.2" => (HashAlgorithmName.SHA256, false, "ECDSA"),
        "1.2.840.10045.4.3.3" => (HashAlgorithmName.SHA384, false, "ECDSA"),
        "1.2.840.10045.4.3.4" => (HashAlgorithmName.SHA512, false, "ECDSA"),
        "1.2.840.113549.1.1.5" => (HashAlgorithmName.SHA1, true, "RSA"),
        "1.2.840.113549.1.1.11" => (HashAlgorithmName.SHA256, false, "RSA"),
        "1.2.840.113549.1.1.12" => (HashAlgorithmName.SHA384, false, "RSA"),
        "1.2.840.113549.1.1.13" => (HashAlgorithmName.SHA512, false, "RSA"),
        _ => (null, false, "unknown"),
    };

    private static bool Verify(PublicKey key, string family, HashAlgorithmName hash, byte[] info, byte[] signature)
    {
        try
        {
            switch (family)
            {
                case "ECDSA" when key.Oid.Value == EcPublicKeyOid:
                    using (var ec = key.GetECDsaPublicKey())
                    {
                        return ec is not null && ec.VerifyData(info, signature, hash, DSASignatureFormat.Rfc3279DerSequence);
                    }

                case "RSA" when key.Oid.Value == RsaOid:
                    using (var rsa = key.GetRSAPublicKey())
                    {
                        return rsa is not null && rsa.VerifyData(info, signature, hash, RSASignaturePadding.Pkcs1);
                    }

                default:
                    return false;
            }
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct CsrKey(ulong A, ulong B, ulong C, ulong D);
}
