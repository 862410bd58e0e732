namespace Identity.Kubernetes;

/// <summary>
/// Names of the instruments Identity.Kubernetes publishes through <see cref="System.Diagnostics.Metrics.IMeterFactory"/>.
/// The meter is separate from the server's so dashboards can tell API-server pressure from Certify load;
/// registering the validators or the event sink also adds it to the host's OpenTelemetry metrics, so the server's
/// <c>/metrics</c> shows both (dots become underscores there: <c>identity_kubernetes_token_cache_hits_total</c>).
/// </summary>
public static class KubernetesMetrics
{
    /// <summary>The meter every instrument below belongs to.</summary>
    public const string MeterName = "Identity.Kubernetes";

    /// <summary>Counter: token reviews answered from the positive-result cache.</summary>
    public const string TokenCacheHits = "identity.kubernetes.token_cache.hits";

    /// <summary>Counter: token reviews that missed the cache and went to the underlying validator
    /// (concurrent identical tokens count once, since they share one review).</summary>
    public const string TokenCacheMisses = "identity.kubernetes.token_cache.misses";

    /// <summary>Counter: TokenReview API calls made, tagged <c>result</c> = authenticated | unauthenticated | error | unavailable.</summary>
    public const string TokenReviews = "identity.kubernetes.token_reviews";

    /// <summary>Histogram (seconds): latency of each TokenReview API call, tagged <c>result</c> as <see cref="TokenReviews"/>
    /// (the audience fallback makes a second call). The server's <c>identity_token_review_duration</c> measures the
    /// whole review as Certify sees it, cache included.</summary>
    public const string TokenReviewDuration = "identity.kubernetes.token_review.duration";

    /// <summary>Counter: local JWT validations, tagged <c>result</c> = authenticated | error.</summary>
    public const string JwtValidations = "identity.kubernetes.jwt_validations";

    /// <summary>Counter: JWKS (re)loads, tagged <c>result</c> = ok | error.</summary>
    public const string JwksRefreshes = "identity.kubernetes.jwks_refreshes";

    /// <summary>Counter: Kubernetes events dropped because the queue was full or the API refused them.</summary>
    public const string EventsDropped = "identity.kubernetes.events_dropped";
}
