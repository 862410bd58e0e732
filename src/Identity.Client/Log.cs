using Identity.Pki.Time;
using Microsoft.Extensions.Logging;

namespace Identity.Client;

/// <summary>Source-generated log messages of the identity client. EventIds are stable; never log tokens or keys.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Certified {Identity}; valid until {NotAfter}; next refresh in {Delay}")]
    public static partial void Certified(ILogger logger, string identity, Rfc3339Time notAfter, TimeSpan delay);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Certify failed ({Reason}): {Detail}; attempt {Attempt}, retrying in {Delay}; current certificate valid until {CurrentNotAfter}")]
    public static partial void CertifyFailed(ILogger logger, CertifyFailureReason reason, string detail, int attempt, TimeSpan delay, string currentNotAfter);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Error, Message = "The current certificate for {Identity} expired at {NotAfter} and could not be renewed")]
    public static partial void CertificateExpired(ILogger logger, string identity, Rfc3339Time notAfter);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Information, Message = "Identity client started for {Identity} against {Address}")]
    public static partial void Started(ILogger logger, string identity, Uri address);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Information, Message = "Identity client stopped")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "TLS peer refused ({Failure}): {Detail}")]
    public static partial void PeerRefused(ILogger logger, Verification.VerificationFailure failure, string detail);
}
