namespace Identity.Pki.Verification;

/// <summary>
/// How <see cref="ChainVerifier"/> verifies beyond its defaults (any extended key usage, time checked).
/// Share one instance across calls; do not change it while a verification uses it.
/// </summary>
public sealed class ChainVerificationOptions
{
    /// <summary>The defaults: any extended key usage is accepted and every certificate's validity is checked.</summary>
    public static ChainVerificationOptions Default { get; } = new();

    /// <summary>
    /// Extended key usage OIDs (e.g. serverAuth <c>1.3.6.1.5.5.7.3.1</c>) every certificate of the path must
    /// permit, a certificate without the extension permitting all, like Go's <c>VerifyOptions.KeyUsages</c>.
    /// Empty (the default) accepts any usage. A path that fails is reported as
    /// <see cref="ChainVerificationStatus.IncompatibleUsage"/>.
    /// </summary>
    public IReadOnlyList<string> RequiredUsages { get; init; } = [];

    /// <summary>
    /// When true, NotBefore/NotAfter are not checked on any certificate (default false). For callers that report
    /// validity separately with their own messages and only ask whether the path itself holds.
    /// </summary>
    public bool IgnoreTimeValidity { get; init; }
}
