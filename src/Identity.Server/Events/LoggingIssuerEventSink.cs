using Microsoft.Extensions.Logging;

namespace Identity.Server.Events;

/// <summary>The default sink outside Kubernetes: each event becomes a log line with the same reason and message.</summary>
public sealed class LoggingIssuerEventSink(ILogger<LoggingIssuerEventSink> logger) : IIssuerEventSink
{
    public void IssuerUpdated() => Log.EventIssuerUpdated(logger);

    public void IssuerUpdateSkipped(string reason) => Log.EventIssuerUpdateSkipped(logger, reason);

    public void IssuerValidationFailed(string reason, string requestedIdentity) =>
        Log.EventIssuerValidationFailed(logger, reason, requestedIdentity);

    public void IssuedLeafCertificate(string ns, string serviceAccount, string message) =>
        Log.EventIssuedLeafCertificate(logger, ns, serviceAccount, message);
}
