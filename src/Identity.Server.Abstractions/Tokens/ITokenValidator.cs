namespace Identity.Server.Tokens;

/// <summary>
/// Answers "who presented this token?" the way a Kubernetes TokenReview does. Implementations: the
/// TokenReview API client and the ServiceAccount JWT/JWKS validator (both in Identity.Kubernetes).
/// </summary>
/// <remarks>
/// The Certify pipeline maps <see cref="TokenReviewResult"/> onto Linkerd's status codes: a thrown
/// <see cref="TokenValidationUnavailableException"/> becomes <c>Internal</c> ("error validating token for …"),
/// a non-empty <see cref="TokenReviewResult.Error"/> becomes <c>InvalidArgument</c> with that text verbatim,
/// <c>Authenticated == false</c> becomes <c>FailedPrecondition</c>, and the username is parsed and mapped to
/// an identity by the server, not by the validator.
/// </remarks>
public interface ITokenValidator
{
    /// <summary>Reviews <paramref name="token"/>. Never logs or echoes the token.</summary>
    /// <exception cref="TokenValidationUnavailableException">The reviewer could not be reached or failed.</exception>
    ValueTask<TokenReviewResult> ReviewAsync(ReadOnlyMemory<byte> token, CancellationToken cancellationToken);
}

/// <summary>The outcome of a token review.</summary>
/// <param name="Authenticated">Whether the token proved an identity.</param>
/// <param name="Username">The authenticated user, e.g. <c>system:serviceaccount:emojivoto:web</c>.</param>
/// <param name="Error">The reviewer's error text (TokenReview <c>status.error</c>), if any.</param>
/// <param name="ExpiresAt">When the token stops being valid, when known; bounds any caching of this result.</param>
public sealed record TokenReviewResult(bool Authenticated, string? Username, string? Error, DateTimeOffset? ExpiresAt)
{
    public static TokenReviewResult Success(string username, DateTimeOffset? expiresAt) => new(true, username, null, expiresAt);

    public static TokenReviewResult Failed(string error) => new(false, null, error, null);

    public static TokenReviewResult Unauthenticated() => new(false, null, null, null);
}

/// <summary>The token reviewer itself failed (API error, throttling, timeout): the token was not judged.</summary>
public sealed class TokenValidationUnavailableException : Exception
{
    public TokenValidationUnavailableException()
    {
    }

    public TokenValidationUnavailableException(string message)
        : base(message)
    {
    }

    public TokenValidationUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
