using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics.Metrics;
using System.Text.Json;
using Identity.Server.Tokens;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace Identity.Kubernetes;

/// <summary>
/// Verifies ServiceAccount JWTs locally (<c>-token-validation jwks</c>): signature (RS256/ES256) against the
/// cluster's JWKS, issuer, audience, lifetime with a small skew, and the <c>kubernetes.io</c> claims that bind
/// the token to a ServiceAccount. No API-server round trip per token.
/// </summary>
/// <remarks>
/// Unlike a TokenReview this cannot notice a deleted pod or ServiceAccount before the token expires, which is
/// why projected tokens are short-lived. Audience: <c>identity.l5d.io</c>, plus
/// <see cref="TokenValidationOptions.FallbackAudiences"/> (Linkerd's TokenReview falls back to the API server's
/// default audiences; configure them here to accept the same tokens, leave empty to enforce audience binding).
/// </remarks>
public sealed class JwksTokenValidator : ITokenValidator
{
    /// <summary>Longer tokens are refused as malformed before they are decoded; a ServiceAccount token is about 1 KiB.</summary>
    public const int MaxTokenBytes = 64 * 1024;

    private const string AlgorithmError = "token signing algorithm is not RS256 or ES256";
    private const string MalformedText = "token is malformed";

    private static readonly TokenReviewResult Malformed = TokenReviewResult.Failed(MalformedText);

    private readonly JwksKeyProvider _keys;
    private readonly string _issuer;
    private readonly string[] _audiences;
    private readonly string _audienceError;
    private readonly TimeSpan _clockSkew;
    private readonly TimeProvider _timeProvider;
    private readonly Counter<long> _validations;
    private readonly ILogger _logger;

    /// <summary>Creates a validator checking tokens from <see cref="TokenValidationOptions.TokenIssuer"/> against <paramref name="keys"/>.</summary>
    public JwksTokenValidator(
        TokenValidationOptions options,
        JwksKeyProvider keys,
        TimeProvider timeProvider,
        IMeterFactory meterFactory,
        ILogger<JwksTokenValidator> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(meterFactory);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.TokenIssuer);

        _keys = keys;
        _issuer = options.TokenIssuer;
        _audiences = [TokenValidationOptions.LinkerdAudience, .. options.FallbackAudiences];
        _audienceError = _audiences.Length == 1
            ? $"token audience is not {TokenValidationOptions.LinkerdAudience}"
            : $"token audience is not one of {string.Join(", ", _audiences)}";
        _clockSkew = options.ClockSkew;
        _timeProvider = timeProvider;
        _logger = logger;
        _validations = meterFactory.Create(KubernetesMetrics.MeterName).CreateCounter<long>(KubernetesMetrics.JwtValidations, description: "Local JWT validations by result");
    }

    /// <inheritdoc/>
    public async ValueTask<TokenReviewResult> ReviewAsync(ReadOnlyMemory<byte> token, CancellationToken cancellationToken)
    {
        var result = await ValidateAsync(token, cancellationToken).ConfigureAwait(false);
        if (result.Error is { } error)
        {
            Log.JwtRejected(_logger, error);
        }

        _validations.Add(1, new KeyValuePair<string, object?>("result", result.Authenticated ? "authenticated" : "error"));
        return result;
    }

    // A cold Certify pays for this once per proxy, so the token is read once, from its bytes: the header for the
    // algorithm and key, the signature through the project's one verifier (the key decoded when the key set was
    // loaded), then the payload's claims in one pass. IdentityModel still reads the key set.
    private async ValueTask<TokenReviewResult> ValidateAsync(ReadOnlyMemory<byte> token, CancellationToken cancellationToken)
    {
        if (token.Length > MaxTokenBytes || !IsCompactJws(token.Span))
        {
            return Malformed;
        }

        var (algorithm, kid, headerError) = ReadHeader(token.Span);
        if (headerError is not null)
        {
            return TokenReviewResult.Failed(headerError);
        }

        var keys = await _keys.GetKeysAsync(cancellationToken).ConfigureAwait(false);
        if (kid is not null && !keys.KeyIds.Contains(kid))
        {
            // A rotated signing key shows up as an unknown kid before our next periodic refresh.
            keys = await _keys.RefreshForUnknownKeyAsync(kid, cancellationToken).ConfigureAwait(false);
            if (!keys.KeyIds.Contains(kid))
            {
                return TokenReviewResult.Failed("token signing key is unknown");
            }
        }

        return Validate(token.Span, algorithm!, kid, keys);
    }

    private TokenReviewResult Validate(ReadOnlySpan<byte> token, string algorithm, string? kid, JwksKeySnapshot keys)
    {
        var lastDot = token.LastIndexOf((byte)'.');
        var signingInput = token[..lastDot];
        var rented = ArrayPool<byte>.Shared.Rent(Base64Url.GetMaxDecodedLength(token.Length));
        try
        {
            var signature = Decode(token[(lastDot + 1)..], rented);
            var candidates = 0;
            var verified = false;
            foreach (var key in keys.Keys)
            {
                if ((kid is null || string.Equals(key.KeyId, kid, StringComparison.Ordinal))
                    && string.Equals(key.Algorithm, algorithm, StringComparison.Ordinal))
                {
                    candidates++;
                    if (key.Verify(signingInput, signature))
                    {
                        verified = true;
                        break;
                    }
                }
            }

            if (!verified)
            {
                return TokenReviewResult.Failed(candidates == 0 && kid is null ? "token signing key is unknown" : "token signature is invalid");
            }

            var payload = Decode(signingInput[(signingInput.IndexOf((byte)'.') + 1)..], rented);
            return Claims.Read(payload) is { } claims ? Check(claims) : Malformed;
        }
        catch (JsonException)
        {
            // A part that is not base64url after all (Decode).
            return Malformed;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private TokenReviewResult Check(Claims claims)
    {
        // IdentityModel's order, which callers have seen: lifetime, audience, issuer, then the ServiceAccount claims.
        var now = _timeProvider.GetUtcNow();
        if (claims.Expires is not { } expires)
        {
            return TokenReviewResult.Failed("token has no expiration");
        }

        if (claims.NotBefore is { } notBefore && notBefore > expires)
        {
            return TokenReviewResult.Failed("token lifetime is invalid");
        }

        if (claims.NotBefore is { } start && start > now + _clockSkew)
        {
            return TokenReviewResult.Failed("token is not yet valid");
        }

        if (expires < now - _clockSkew)
        {
            return TokenReviewResult.Failed("token has expired");
        }

        if (!claims.Audiences.Exists(a => Array.IndexOf(_audiences, a) >= 0))
        {
            return TokenReviewResult.Failed(_audienceError);
        }

        if (!string.Equals(claims.Issuer, _issuer, StringComparison.Ordinal))
        {
            return TokenReviewResult.Failed($"token issuer is not {_issuer}");
        }

        if (!claims.HasKubernetes)
        {
            return TokenReviewResult.Failed("token has no kubernetes.io claims");
        }

        if (claims.Namespace is not { Length: > 0 } ns)
        {
            return TokenReviewResult.Failed("token has no kubernetes.io namespace claim");
        }

        if (!claims.HasServiceAccount)
        {
            return TokenReviewResult.Failed("token has no kubernetes.io serviceaccount claim");
        }

        if (claims.ServiceAccountName is not { Length: > 0 } name)
        {
            return TokenReviewResult.Failed("token has no kubernetes.io serviceaccount name claim");
        }

        if (claims.ServiceAccountUid is not { Length: > 0 })
        {
            return TokenReviewResult.Failed("token has no kubernetes.io serviceaccount uid claim");
        }

        var expected = $"system:serviceaccount:{ns}:{name}";
        if (!string.Equals(claims.Subject, expected, StringComparison.Ordinal))
        {
            return TokenReviewResult.Failed($"token subject is not {expected}, as its kubernetes.io claims require");
        }

        return TokenReviewResult.Success(expected, expires);
    }

    /// <summary>The header's <c>alg</c> (ES256 or RS256) and <c>kid</c>, or why the token is refused.</summary>
    private static (string? Algorithm, string? KeyId, string? Error) ReadHeader(ReadOnlySpan<byte> token)
    {
        var encoded = token[..token.IndexOf((byte)'.')];
        Span<byte> buffer = encoded.Length <= 1024 ? stackalloc byte[Base64Url.GetMaxDecodedLength(encoded.Length)] : new byte[Base64Url.GetMaxDecodedLength(encoded.Length)];
        string? algorithm = null, kid = null;
        try
        {
            var reader = new Utf8JsonReader(Decode(encoded, buffer));
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return (null, null, MalformedText);
            }

            var seenAlgorithm = false;
            var seenKid = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("alg"u8))
                {
                    if (seenAlgorithm || !reader.Read())
                    {
                        return (null, null, MalformedText);
                    }

                    seenAlgorithm = true;
                    algorithm = reader.TokenType != JsonTokenType.String ? null
                        : reader.ValueTextEquals("ES256"u8) ? SecurityAlgorithms.EcdsaSha256
                        : reader.ValueTextEquals("RS256"u8) ? SecurityAlgorithms.RsaSha256
                        : null;
                }
                else if (reader.ValueTextEquals("kid"u8))
                {
                    if (seenKid || !reader.Read() || reader.TokenType != JsonTokenType.String)
                    {
                        return (null, null, MalformedText);
                    }

                    seenKid = true;
                    kid = reader.GetString() is { Length: > 0 } id ? id : null;
                }
                else if (reader.ValueTextEquals("crit"u8))
                {
                    // RFC 7515 §4.1.11: a recipient must refuse extensions it does not understand, and this one
                    // understands none. Kubernetes never sets crit.
                    return (null, null, "token has critical header parameters");
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                return (null, null, MalformedText);
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: a kid that is not valid UTF-8, found only when it is read.
            return (null, null, MalformedText);
        }

        // Checked before any key is looked at, so "none" and HMAC tokens never reach key selection.
        return algorithm is null ? (null, null, AlgorithmError) : (algorithm, kid, null);
    }

    private static ReadOnlySpan<byte> Decode(ReadOnlySpan<byte> base64Url, Span<byte> buffer)
    {
        var status = Base64Url.DecodeFromUtf8(base64Url, buffer, out _, out var written);
        return status == System.Buffers.OperationStatus.Done ? buffer[..written] : throw new JsonException("not base64url");
    }

    /// <summary>
    /// A JWS compact serialization: three base64url parts (RFC 7515 §7.1, no padding) of decodable lengths, the
    /// signature empty for an unsecured token (refused later, by algorithm, with a precise message). Checked
    /// before the library parses anything, whose decoder throws FormatException rather than its documented
    /// exceptions for some bad parts.
    /// </summary>
    private static bool IsCompactJws(ReadOnlySpan<byte> token)
    {
        var parts = 0;
        var length = 0;
        foreach (var b in token)
        {
            var c = (char)b;
            if (c == '.')
            {
                if (length == 0 || length % 4 == 1 || ++parts > 2)
                {
                    return false;
                }

                length = 0;
            }
            else if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_')
            {
                length++;
            }
            else
            {
                return false;
            }
        }

        return parts == 2 && length % 4 != 1;
    }

    /// <summary>The payload claims this validator reads, from one pass over the JSON; null when it is not a JSON object.</summary>
    private sealed class Claims
    {
        public string? Issuer { get; private set; }

        public string? Subject { get; private set; }

        public List<string> Audiences { get; } = new(2);

        public DateTimeOffset? Expires { get; private set; }

        public DateTimeOffset? NotBefore { get; private set; }

        public bool HasKubernetes { get; private set; }

        public string? Namespace { get; private set; }

        public bool HasServiceAccount { get; private set; }

        public string? ServiceAccountName { get; private set; }

        public string? ServiceAccountUid { get; private set; }

        public static Claims? Read(ReadOnlySpan<byte> json)
        {
            var claims = new Claims();
            try
            {
                var reader = new Utf8JsonReader(json);
                return reader.Read() && reader.TokenType == JsonTokenType.StartObject && claims.ReadRoot(ref reader) && !reader.Read()
                    ? claims
                    : null;
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException)
            {
                // InvalidOperationException: a string that is not valid UTF-8, found only when it is read.
                return null;
            }
        }

        // A claim this validator decides on may appear once: with two, a reader that keeps the first and one that
        // keeps the last would disagree about who the token is for.
        private bool ReadRoot(ref Utf8JsonReader reader)
        {
            var seen = 0;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var bit = reader.ValueTextEquals("iss"u8) ? 1 : reader.ValueTextEquals("sub"u8) ? 2 : reader.ValueTextEquals("aud"u8) ? 4
                    : reader.ValueTextEquals("exp"u8) ? 8 : reader.ValueTextEquals("nbf"u8) ? 16 : reader.ValueTextEquals("kubernetes.io"u8) ? 32 : 0;
                if ((seen & bit) != 0 || !reader.Read())
                {
                    return false;
                }

                seen |= bit;
                switch (bit)
                {
                    case 1: Issuer = StringOrNull(ref reader); break;
                    case 2: Subject = StringOrNull(ref reader); break;
                    case 4: ReadAudiences(ref reader); break;
                    case 8: Expires = Time(ref reader); break;
                    case 16: NotBefore = Time(ref reader); break;
                    case 32 when reader.TokenType == JsonTokenType.StartObject:
                        HasKubernetes = true;
                        if (!ReadKubernetes(ref reader))
                        {
                            return false;
                        }

                        break;
                    default: reader.Skip(); break;
                }
            }

            return reader.TokenType == JsonTokenType.EndObject;
        }

        private bool ReadKubernetes(ref Utf8JsonReader reader)
        {
            var seen = 0;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var bit = reader.ValueTextEquals("namespace"u8) ? 1 : reader.ValueTextEquals("serviceaccount"u8) ? 2 : 0;
                if ((seen & bit) != 0 || !reader.Read())
                {
                    return false;
                }

                seen |= bit;
                if (bit == 1)
                {
                    Namespace = StringOrNull(ref reader);
                }
                else if (bit == 2 && reader.TokenType == JsonTokenType.StartObject)
                {
                    HasServiceAccount = true;
                    if (!ReadServiceAccount(ref reader))
                    {
                        return false;
                    }
                }
                else
                {
                    reader.Skip();
                }
            }

            return reader.TokenType == JsonTokenType.EndObject;
        }

        private bool ReadServiceAccount(ref Utf8JsonReader reader)
        {
            var seen = 0;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var bit = reader.ValueTextEquals("name"u8) ? 1 : reader.ValueTextEquals("uid"u8) ? 2 : 0;
                if ((seen & bit) != 0 || !reader.Read())
                {
                    return false;
                }

                seen |= bit;
                switch (bit)
                {
                    case 1: ServiceAccountName = StringOrNull(ref reader); break;
                    case 2: ServiceAccountUid = StringOrNull(ref reader); break;
                    default: reader.Skip(); break;
                }
            }

            return reader.TokenType == JsonTokenType.EndObject;
        }

        private void ReadAudiences(ref Utf8JsonReader reader)
        {
            // RFC 7519 §4.1.3: one string or an array of strings.
            if (reader.TokenType == JsonTokenType.String)
            {
                Audiences.Add(reader.GetString()!);
                return;
            }

            if (reader.TokenType != JsonTokenType.StartArray)
            {
                reader.Skip();
                return;
            }

            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (reader.TokenType == JsonTokenType.String)
                {
                    Audiences.Add(reader.GetString()!);
                }
                else
                {
                    reader.Skip();
                }
            }
        }

        private static string? StringOrNull(ref Utf8JsonReader reader)
        {
            if (reader.TokenType == JsonTokenType.String)
            {
                return reader.GetString();
            }

            reader.Skip();
            return null;
        }

        // NumericDate (RFC 7519 §2): seconds since the epoch, possibly with a fraction, which is dropped as
        // IdentityModel drops it. A value no DateTimeOffset can hold counts as absent.
        private static DateTimeOffset? Time(ref Utf8JsonReader reader)
        {
            if (reader.TokenType != JsonTokenType.Number)
            {
                reader.Skip();
                return null;
            }

            var seconds = reader.TryGetInt64(out var whole) ? whole : reader.TryGetDouble(out var real) && double.IsFinite(real) ? (long)Math.Clamp(real, long.MinValue, long.MaxValue) : long.MinValue;
            return seconds is >= 0 and <= 253_402_300_799 ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null;
        }
    }
}
