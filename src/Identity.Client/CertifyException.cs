namespace Identity.Client;

/// <summary>Why a Certify attempt failed; the current certificate is kept in every case.</summary>
public enum CertifyFailureReason
{
    /// <summary>The token file could not be read.</summary>
    TokenUnreadable,

    /// <summary>The token file is empty; no call was made.</summary>
    TokenEmpty,

    /// <summary>The identity service answered with a gRPC error (or could not be reached).</summary>
    ServerError,

    /// <summary>The identity service's TLS certificate was refused (foreign root, wrong identity, expired); the message says which.</summary>
    ServerNotTrusted,

    /// <summary>The call did not finish within <see cref="IdentityClientOptions.CallTimeout"/>.</summary>
    DeadlineExceeded,

    /// <summary>The answer had no <c>valid_until</c>.</summary>
    MissingValidUntil,

    /// <summary>The answer's <c>valid_until</c> is not in the future.</summary>
    ValidUntilNotInFuture,

    /// <summary>The leaf or an intermediate is not a DER certificate.</summary>
    MalformedCertificate,

    /// <summary>The leaf does not certify the key this client generated.</summary>
    KeyMismatch,

    /// <summary>The chain does not verify against the trust anchors with serverAuth and clientAuth.</summary>
    UntrustedChain,

    /// <summary>The leaf (or a chain certificate) is not valid at the client's time: expired, or not yet valid (clock skew).</summary>
    NotTimeValid,

    /// <summary>The chain does not allow both serverAuth and clientAuth, which mesh peers require.</summary>
    WrongKeyUsage,

    /// <summary>The leaf's DNS SAN is not the local identity.</summary>
    IdentityMismatch,
}

/// <summary>A Certify attempt failed; <see cref="Reason"/> says why and the message is precise. Never contains the token.</summary>
public sealed class CertifyException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CertifyException(CertifyFailureReason reason, string message, Exception? innerException = null)
        : base(message, innerException) => Reason = reason;

    /// <summary>Creates the exception with a generic reason (for serializers and analyzers).</summary>
    public CertifyException()
        : this(CertifyFailureReason.ServerError, "certify failed")
    {
    }

    /// <summary>Creates the exception with a generic reason.</summary>
    public CertifyException(string message)
        : this(CertifyFailureReason.ServerError, message)
    {
    }

    /// <summary>Creates the exception with a generic reason.</summary>
    public CertifyException(string message, Exception innerException)
        : this(CertifyFailureReason.ServerError, message, innerException)
    {
    }

    /// <summary>Why the attempt failed.</summary>
    public CertifyFailureReason Reason { get; }
}
