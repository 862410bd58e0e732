using System.Security.Cryptography.X509Certificates;

namespace Identity.Pki.Verification;

/// <summary>Why a chain did or did not verify.</summary>
public enum ChainVerificationStatus
{
    /// <summary>The chain verifies.</summary>
    Valid,

    /// <summary>No path from the leaf to an anchor (foreign root, missing intermediate).</summary>
    UnknownAuthority,

    /// <summary>A certificate in the path expired before the verification time.</summary>
    Expired,

    /// <summary>A certificate in the path is not yet valid at the verification time.</summary>
    NotYetValid,

    /// <summary>The leaf is not valid for the expected host name.</summary>
    HostMismatch,

    /// <summary>A certificate used as an issuer is not a CA (basic constraints missing or CA:FALSE).</summary>
    NotCertificateAuthority,

    /// <summary>A CA's path-length constraint is exceeded by the intermediates below it.</summary>
    PathLengthExceeded,

    /// <summary>A signature in the path does not verify with its issuer's key.</summary>
    BadSignature,

    /// <summary>A certificate uses an algorithm or feature the platform cannot verify.</summary>
    Unsupported,

    /// <summary>Any other reason reported by the platform chain engine.</summary>
    Invalid,

    /// <summary>
    /// A certificate in the path does not permit a usage required by
    /// <see cref="ChainVerificationOptions.RequiredUsages"/>.
    /// </summary>
    IncompatibleUsage,
}

/// <summary>The outcome of <see cref="ChainVerifier"/>. Messages follow Go's <c>crypto/x509</c> wording.</summary>
public sealed class ChainVerificationResult
{
    internal ChainVerificationResult(
        ChainVerificationStatus status,
        string? error,
        X509Certificate2? certificate,
        IReadOnlyList<X509Certificate2> chain)
    {
        Status = status;
        Error = error;
        Certificate = certificate;
        Chain = chain;
    }

    /// <summary>True when the chain verifies.</summary>
    public bool IsValid => Status == ChainVerificationStatus.Valid;

    /// <summary>The reason.</summary>
    public ChainVerificationStatus Status { get; }

    /// <summary>
    /// Null when valid; otherwise a message such as <c>x509: certificate signed by unknown authority</c>
    /// (the exact text <c>step certificate verify</c> prints after <c>failed to verify certificate: </c>).
    /// </summary>
    public string? Error { get; }

    /// <summary>The certificate the failure is about (the leaf, an intermediate or an anchor), if known.</summary>
    public X509Certificate2? Certificate { get; }

    /// <summary>The path that was built, leaf first; ends in an anchor when valid. May be partial on failure.</summary>
    public IReadOnlyList<X509Certificate2> Chain { get; }

    internal static ChainVerificationResult Fail(
        ChainVerificationStatus status,
        string error,
        X509Certificate2? certificate,
        IReadOnlyList<X509Certificate2> chain) => new(status, error, certificate, chain);
}
