using System.Diagnostics.Metrics;
using System.Text;
using System.Text.Json;
using Identity.Server.Tokens;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
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
    private const string AlgorithmError = "token signing algorithm is not RS256 or ES256";

    private static readonly string[] AllowedAlgorithms = [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.EcdsaSha256];

    private readonly JwksKeyProvider _keys;
    private readonly string _issuer;
    private readonly string[] _audiences;
    private readonly string _audienceError;
    private readonly TimeSpan _clockSkew;
    private readonly TimeProvider _timeProvider;
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly Counter<long> _validations;
    private readonly ILogger _logger;
    private ParametersForKeys? _parameters;

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
        var result = await ValidateAsync(Encoding.UTF8.GetString(token.Span), cancellationToken).ConfigureAwait(false);
        if (result.Error is { } error)
        {
            Log.JwtRejected(_logger, error);
        }

        _validations.Add(1, new KeyValuePair<string, object?>("result", result.Authenticated ? "authenticated" : "error"));
        return result;
    }

    private async ValueTask<TokenReviewResult> ValidateAsync(string token, CancellationToken cancellationToken)
    {
        if (!IsCompactJws(token))
        {
            return TokenReviewResult.Failed("token is malformed");
        }

        JsonWebToken parsed;
        try
        {
            parsed = new JsonWebToken(token);
        }
        catch (ArgumentException)
        {
            return TokenReviewResult.Failed("token is malformed");
        }

        // Checked up front for a precise answer (the library reports a disallowed algorithm as a bad signature) and
        // so "none"/HMAC tokens never reach key selection.
        if (Array.IndexOf(AllowedAlgorithms, parsed.Alg) < 0)
        {
            return TokenReviewResult.Failed(AlgorithmError);
        }

        var keys = await _keys.GetKeysAsync(cancellationToken).ConfigureAwait(false);
        if (parsed.Kid is { Length: > 0 } kid && !keys.KeyIds.Contains(kid))
        {
            // A rotated signing key shows up as an unknown kid before our next periodic refresh.
            keys = await _keys.RefreshForUnknownKeyAsync(kid, cancellationToken).ConfigureAwait(false);
            if (!keys.KeyIds.Contains(kid))
            {
                return TokenReviewResult.Failed("token signing key is unknown");
            }
        }

        var validation = await _handler.ValidateTokenAsync(parsed, ParametersFor(keys)).ConfigureAwait(false);
        if (!validation.IsValid)
        {
            return TokenReviewResult.Failed(Describe(validation.Exception));
        }

        return CheckServiceAccountClaims(parsed);
    }

    private TokenValidationParameters ParametersFor(JwksKeySnapshot keys)
    {
        var cached = Volatile.Read(ref _parameters);
        if (cached is not null && ReferenceEquals(cached.Keys, keys))
        {
            return cached.Parameters;
        }

        var parameters = new TokenValidationParameters
        {
            ValidIssuer = _issuer,
            ValidAudiences = _audiences,
            IssuerSigningKeys = keys.Keys,
            ValidAlgorithms = AllowedAlgorithms,
            ClockSkew = _clockSkew,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ValidateIssuer = true,
            ValidateAudience = true,
            ValidateLifetime = true,
            LifetimeValidator = ValidateLifetime,
        };
        Volatile.Write(ref _parameters, new ParametersForKeys(keys, parameters));
        return parameters;
    }

    // IdentityModel reads the wall clock; this check uses the injected TimeProvider instead. Throwing the library's
    // own exception types keeps "expired" and "not yet valid" distinguishable in the result.
    private bool ValidateLifetime(DateTime? notBefore, DateTime? expires, SecurityToken token, TokenValidationParameters parameters)
    {
        var now = _timeProvider.GetUtcNow().UtcDateTime;
        if (expires is not { } notAfter)
        {
            throw new SecurityTokenNoExpirationException("token has no expiration");
        }

        if (notBefore is { } start && start > now + _clockSkew)
        {
            throw new SecurityTokenNotYetValidException("token is not yet valid") { NotBefore = start };
        }

        if (notAfter < now - _clockSkew)
        {
            throw new SecurityTokenExpiredException("token has expired") { Expires = notAfter };
        }

        return true;
    }

    private string Describe(Exception? e) => e switch
    {
        SecurityTokenExpiredException => "token has expired",
        SecurityTokenNotYetValidException => "token is not yet valid",
        SecurityTokenNoExpirationException => "token has no expiration",
        SecurityTokenInvalidLifetimeException => "token lifetime is invalid",
        SecurityTokenInvalidAudienceException => _audienceError,
        SecurityTokenInvalidIssuerException => $"token issuer is not {_issuer}",
        SecurityTokenInvalidAlgorithmException => AlgorithmError,
        SecurityTokenSignatureKeyNotFoundException => "token signing key is unknown",
        SecurityTokenInvalidSignatureException => "token signature is invalid",
        SecurityTokenMalformedException => "token is malformed",
        _ => "token is invalid",
    };

    private static TokenReviewResult CheckServiceAccountClaims(JsonWebToken jwt)
    {
        // Re-read the signed payload as JSON: the nested kubernetes.io object is clearer to walk than claims.
        using var payload = JsonDocument.Parse(Base64UrlEncoder.DecodeBytes(jwt.EncodedPayload));
        var root = payload.RootElement;
        if (!root.TryGetProperty("kubernetes.io", out var kubernetes) || kubernetes.ValueKind != JsonValueKind.Object)
        {
            return TokenReviewResult.Failed("token has no kubernetes.io claims");
        }

        var ns = ReadString(kubernetes, "namespace");
        if (ns is null)
        {
            return TokenReviewResult.Failed("token has no kubernetes.io namespace claim");
        }

        if (!kubernetes.TryGetProperty("serviceaccount", out var serviceAccount) || serviceAccount.ValueKind != JsonValueKind.Object)
        {
            return TokenReviewResult.Failed("token has no kubernetes.io serviceaccount claim");
        }

        var name = ReadString(serviceAccount, "name");
        if (name is null)
        {
            return TokenReviewResult.Failed("token has no kubernetes.io serviceaccount name claim");
        }

        if (ReadString(serviceAccount, "uid") is null)
        {
            return TokenReviewResult.Failed("token has no kubernetes.io serviceaccount uid claim");
        }

        var expected = $"system:serviceaccount:{ns}:{name}";
        var subject = ReadString(root, JwtRegisteredClaimNames.Sub);
        if (!string.Equals(subject, expected, StringComparison.Ordinal))
        {
            return TokenReviewResult.Failed($"token subject is not {expected}, as its kubernetes.io claims require");
        }

        return TokenReviewResult.Success(expected, new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero));
    }

    /// <summary>
    /// A JWS compact serialization: three base64url parts (RFC 7515 §7.1, no padding) of decodable lengths, the
    /// signature empty for an unsecured token (refused later, by algorithm, with a precise message). Checked
    /// before the library parses anything, whose decoder throws FormatException rather than its documented
    /// exceptions for some bad parts.
    /// </summary>
    private static bool IsCompactJws(string token)
    {
        var parts = 0;
        var length = 0;
        foreach (var c in token)
        {
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

    private sealed record ParametersForKeys(JwksKeySnapshot Keys, TokenValidationParameters Parameters);

    private static string? ReadString(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : null;
}
