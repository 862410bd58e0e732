using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Identity.Pki.X509;

namespace Identity.Server.Issuance;

/// <summary>What the Certify checks need from a CSR, parsed once and immutable.</summary>
internal sealed record ParsedCsr(
    string? CommonName,
    ImmutableArray<string> DnsNames,
    bool HasEmail,
    bool HasIp,
    bool HasUri,
    byte[] SubjectPublicKeyInfo,
    string KeyAlgorithm,
    string? CurveName,
    string SignatureAlgorithm,
    bool SignatureIsSha1,
    bool SignatureSupported,
    bool SignatureValid)
{
    public bool IsEcdsa => KeyAlgorithm == "ECDSA";

    public bool IsP256 => CurveName == "P-256";
}

/// <summary>
/// Parses DER PKCS#10 requests with Identity.Pki's decoder and verifies their signature (proof of possession),
/// remembering results by a SHA-256 of the bytes: proxies resend the same CSR on every renewal, so the verify is
/// paid once per proxy. Malformed requests are answers (<see cref="Decoded{T}"/>), never exceptions.
/// </summary>
internal sealed class CsrParser(int capacity)
{
    private const string Prefix = "failed to parse certificate signing request: ";

    private readonly ConcurrentDictionary<CsrKey, ParsedCsr> _cache = new();

    // Approximate by design (adds racing a clear may be missed), which is enough for a bound. Not cache.Count: that
    // takes every lock of the table, up to 1,024, and stalled every cold Certify behind the others.
    private int _count;

    public int CachedCount => _cache.Count;

    public Decoded<ParsedCsr> Parse(ReadOnlyMemory<byte> der)
    {
        if (capacity == 0)
        {
            return ParseUncached(der);
        }

        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(der.Span, digest);
        var key = MemoryMarshal.Read<CsrKey>(digest);
        if (_cache.TryGetValue(key, out var cached))
        {
            return Decoded.Ok(cached);
        }

        var parsed = ParseUncached(der);
        if (parsed.Value is not { } value)
        {
            // Refusals are not cached: they are cheap to repeat and would let junk evict the fleet's CSRs.
            return parsed;
        }

        if (Volatile.Read(ref _count) >= capacity)
        {
            // Bounded without LRU bookkeeping on the hot path: a full cache is dropped and refills with the
            // CSRs of live proxies within one renewal round.
            Volatile.Write(ref _count, 0);
            _cache.Clear();
        }

        if (_cache.TryAdd(key, value))
        {
            Interlocked.Increment(ref _count);
        }
        return parsed;
    }

    public static Decoded<ParsedCsr> ParseUncached(ReadOnlyMemory<byte> der)
    {
        var decoded = CertificationRequest.Decode(der);
        if (decoded.Value is not { } request)
        {
            return Decoded.Fail<ParsedCsr>(Prefix + decoded.Error);
        }

        // Like Go's parser, a key that is not a usable key of a known kind makes the request unparsable.
        var key = request.PublicKey;
        if (key.Problem is { } problem)
        {
            return Decoded.Fail<ParsedCsr>(Prefix + problem);
        }

        var sans = request.SubjectAltNames;
        var algorithm = request.SignatureAlgorithm;
        return Decoded.Ok(new ParsedCsr(
            request.Subject.CommonName,
            sans is null ? [] : [.. sans.DnsNames],
            sans is { EmailAddresses.Count: > 0 },
            sans is { IPAddresses.Count: > 0 },
            sans is { Uris.Count: > 0 },
            key.Der.ToArray(),
            key.AlgorithmName,
            key.Curve?.Name,
            request.SignatureAlgorithmOid,
            algorithm?.IsSha1 ?? false,
            algorithm is not null,
            request.VerifySignature()));
    }

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct CsrKey(ulong A, ulong B, ulong C, ulong D);
}
