using Identity.Pki.Time;
using Microsoft.Extensions.Logging;

namespace Identity.Server;

/// <summary>Source-generated log messages of the server; EventIds are stable (1xxx issuer, 2xxx Certify, 3xxx hosting).</summary>
internal static partial class Log
{
    [LoggerMessage(1000, LogLevel.Information, "Issuer cert loaded: subject={Subject} invalid_after={InvalidAfter} ttl_seconds={TtlSeconds} anchors={AnchorCount}")]
    public static partial void IssuerLoaded(ILogger logger, string subject, Rfc3339Time invalidAfter, long ttlSeconds, int anchorCount);

    [LoggerMessage(1001, LogLevel.Warning, "Skipping issuer update as certs could not be read from disk: {Reason}")]
    public static partial void IssuerUpdateSkipped(ILogger logger, string reason);

    [LoggerMessage(1002, LogLevel.Error, "No valid issuer loaded yet, Certify answers Unavailable: {Reason}")]
    public static partial void IssuerNotLoaded(ILogger logger, string reason);

    [LoggerMessage(1003, LogLevel.Warning, "Received error from fs watcher, recreating it: {Message}")]
    public static partial void WatcherError(ILogger logger, string message);

    [LoggerMessage(1004, LogLevel.Warning, "Cannot watch {Directory} for changes, relying on the periodic re-read: {Message}")]
    public static partial void WatcherUnavailable(ILogger logger, string directory, string message);

    [LoggerMessage(1005, LogLevel.Debug, "Issuer reload: {Outcome}")]
    public static partial void ReloadOutcome(ILogger logger, string outcome);

    [LoggerMessage(1006, LogLevel.Error, "Issuer reload failed unexpectedly")]
    public static partial void ReloadCrashed(ILogger logger, Exception exception);

    [LoggerMessage(1010, LogLevel.Information, "Event IssuerUpdated: Updated identity issuer")]
    public static partial void EventIssuerUpdated(ILogger logger);

    [LoggerMessage(1011, LogLevel.Warning, "Event IssuerUpdateSkipped: Skipping issuer update as certs could not be read from disk: {Reason}")]
    public static partial void EventIssuerUpdateSkipped(ILogger logger, string reason);

    [LoggerMessage(1012, LogLevel.Warning, "Event IssuerValidationFailed: {Reason} - CSR Identity : {Identity}")]
    public static partial void EventIssuerValidationFailed(ILogger logger, string reason, string identity);

    [LoggerMessage(1013, LogLevel.Debug, "Event IssuedLeafCertificate on {Namespace}/{ServiceAccount}: {Message}")]
    public static partial void EventIssuedLeafCertificate(ILogger logger, string @namespace, string serviceAccount, string message);

    [LoggerMessage(2000, LogLevel.Information, "issued certificate for {Identity} until {NotAfter}: {Sha256} serial={Serial}")]
    public static partial void Issued(ILogger logger, string identity, Rfc3339Time notAfter, string sha256, string serial);

    [LoggerMessage(2001, LogLevel.Information, "refused certificate for {Identity}: code={Code} reason={Reason}")]
    public static partial void Refused(ILogger logger, string identity, string code, string reason);

    [LoggerMessage(2002, LogLevel.Error, "could not process CSR because of CA cert validation failure: {Reason}")]
    public static partial void IssuerInvalidAtRequest(ILogger logger, string reason);

    [LoggerMessage(2003, LogLevel.Error, "Certify hit an unexpected {ExceptionType} {Frame}; answered Internal")]
    public static partial void UnexpectedError(ILogger logger, string exceptionType, string frame);

    [LoggerMessage(3000, LogLevel.Information, "Serving TLS with {Identity} until {NotAfter}")]
    public static partial void ServingCertificateIssued(ILogger logger, string identity, Rfc3339Time notAfter);

    [LoggerMessage(3001, LogLevel.Warning, "Cannot issue the TLS serving certificate: {Reason}")]
    public static partial void ServingCertificateFailed(ILogger logger, string reason);
}
