namespace Identity.Server.Events;

/// <summary>
/// Where the server reports Linkerd's Kubernetes events. The default implementation only logs; in a cluster
/// Identity.Kubernetes posts real Events (same reasons and messages as linkerd-identity) so existing runbooks
/// that watch for <c>IssuerUpdated</c> keep working.
/// </summary>
public interface IIssuerEventSink
{
    /// <summary>Normal <c>IssuerUpdated</c>, message <c>Updated identity issuer</c>.</summary>
    void IssuerUpdated();

    /// <summary>Warning <c>IssuerUpdateSkipped</c>: a new issuer was found but not taken; the old one stays.</summary>
    void IssuerUpdateSkipped(string reason);

    /// <summary>Warning <c>IssuerValidationFailed</c>: the served issuer no longer verifies at request time.</summary>
    void IssuerValidationFailed(string reason, string requestedIdentity);

    /// <summary>Normal <c>IssuedLeafCertificate</c> on the ServiceAccount <paramref name="serviceAccount"/> in <paramref name="ns"/>.</summary>
    void IssuedLeafCertificate(string ns, string serviceAccount, string message);
}
