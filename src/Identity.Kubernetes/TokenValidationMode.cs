namespace Identity.Kubernetes;

/// <summary>How ServiceAccount tokens are judged (<c>-token-validation</c>).</summary>
public enum TokenValidationMode
{
    /// <summary>Ask the API server with a TokenReview, exactly like linkerd-identity.</summary>
    Kubernetes,

    /// <summary>Verify the JWT locally against the cluster's JWKS (no API round trip per token).</summary>
    Jwks,
}
