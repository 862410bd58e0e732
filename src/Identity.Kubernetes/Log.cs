using Microsoft.Extensions.Logging;

namespace Identity.Kubernetes;

/// <summary>Source-generated log messages. Event ids 3100-3199 belong to Identity.Kubernetes. Never log tokens.</summary>
internal static partial class Log
{
    [LoggerMessage(3100, LogLevel.Warning, "TokenReview could not be completed: {Reason}")]
    public static partial void TokenReviewUnavailable(ILogger logger, string reason);

    [LoggerMessage(3101, LogLevel.Debug, "TokenReview rejected the identity.l5d.io audience ({Error}); retrying with the API server's default audiences")]
    public static partial void TokenReviewAudienceFallback(ILogger logger, string error);

    [LoggerMessage(3102, LogLevel.Information, "Token validation cache evicted {Count} entries to stay within {Capacity}")]
    public static partial void CacheEvicted(ILogger logger, int count, int capacity);

    [LoggerMessage(3110, LogLevel.Information, "Loaded {Count} JWKS signing keys from {Source}")]
    public static partial void JwksLoaded(ILogger logger, int count, string source);

    [LoggerMessage(3111, LogLevel.Warning, "Could not load JWKS from {Source}: {Reason}")]
    public static partial void JwksLoadFailed(ILogger logger, string source, string reason);

    [LoggerMessage(3112, LogLevel.Information, "Token key id {KeyId} is unknown; refreshing JWKS from {Source}")]
    public static partial void JwksUnknownKid(ILogger logger, string keyId, string source);

    [LoggerMessage(3113, LogLevel.Debug, "ServiceAccount token rejected: {Reason}")]
    public static partial void JwtRejected(ILogger logger, string reason);

    [LoggerMessage(3120, LogLevel.Warning, "Could not post Kubernetes event {Reason} to {Namespace}: {Error}")]
    public static partial void EventPostFailed(ILogger logger, string reason, string @namespace, string error);

    [LoggerMessage(3121, LogLevel.Warning, "Kubernetes event queue is full; dropped event {Reason}")]
    public static partial void EventDropped(ILogger logger, string reason);

    [LoggerMessage(3130, LogLevel.Information, "RBAC check passed: this identity may create tokenreviews.authentication.k8s.io")]
    public static partial void AccessCheckPassed(ILogger logger);
}
