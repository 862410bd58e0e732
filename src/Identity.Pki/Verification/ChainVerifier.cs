using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Identity.Pki.Time;

namespace Identity.Pki.Verification;

/// <summary>
/// Verifies a leaf certificate against explicit trust anchors, as Go's <c>crypto/x509</c> <c>Verify</c> does:
/// no revocation, no downloads, a caller-supplied time. Any extended key usage is accepted unless the options
/// require some (as <c>step certificate verify</c> does, Go <c>KeyUsages=[Any]</c>). Failures are classified and
/// worded like Go's so the CLI matches step byte for byte.
/// </summary>
/// <remarks>
/// Path building is Go's, done here rather than by the platform's chain engine: every certificate in the bundle
/// is an anchor, self-signed or not, and a path ends at the first anchor reached; a certificate whose issuer name
/// equals its subject is not taken for a root unless it is an anchor, so its signer is still looked up (Linkerd's
/// issuers often share their anchor's name); when several candidate issuers share a name (old and new CA during
/// a rotation) each is tried. Signatures are checked with the project's own verifier (ECDSA, RSA PKCS#1 and
/// Ed25519). The platform engine would also read the machine's certificate store on first use, which costs a
/// server tens of milliseconds at start for certificates it never trusts.
/// Thread-safety: stateless. Share one <see cref="TrustBundle"/> across calls (it is immutable and holds its
/// anchors decoded). The verifier does not dispose the certificates it is given; certificates in the result are
/// the caller's own instances (leaf, intermediates, anchors).
/// </remarks>
public static class ChainVerifier
{
    private const string UnhandledCriticalExtension = "x509: unhandled critical extension";

    // Read once per process, and only by the CLI's verify without --roots: the server and the client never ask.
    private static readonly Lazy<TrustBundle?> SystemRoots = new(LoadSystemRoots);

    private static TrustBundle? LoadSystemRoots()
    {
        using var store = new X509Store(StoreName.Root, StoreLocation.LocalMachine);
        store.Open(OpenFlags.ReadOnly | OpenFlags.OpenExistingOnly);
        var roots = store.Certificates.ToList();
        return roots.Count == 0 ? null : TrustBundle.FromCertificates(roots);
    }

    /// <summary>Verifies <paramref name="leaf"/> against <paramref name="anchors"/> only.</summary>
    /// <param name="leaf">The end-entity certificate.</param>
    /// <param name="intermediates">Untrusted certificates that may be used to build the path; may be null.</param>
    /// <param name="anchors">The only certificates that are trusted.</param>
    /// <param name="at">The verification time (pass <c>TimeProvider.GetUtcNow()</c>).</param>
    /// <param name="host">When set, the leaf must have a DNS (or IP) SAN that matches it; the CN is ignored.</param>
    public static ChainVerificationResult Verify(
        X509Certificate2 leaf,
        IEnumerable<X509Certificate2>? intermediates,
        TrustBundle anchors,
        DateTimeOffset at,
        string? host = null) => Verify(leaf, intermediates, anchors, at, host, ChainVerificationOptions.Default);

    /// <summary>
    /// Verifies <paramref name="leaf"/> against <paramref name="anchors"/> only, with required extended key
    /// usages or time validity ignored as <paramref name="options"/> say.
    /// </summary>
    /// <param name="leaf">The end-entity certificate.</param>
    /// <param name="intermediates">Untrusted certificates that may be used to build the path; may be null.</param>
    /// <param name="anchors">The only certificates that are trusted.</param>
    /// <param name="at">The verification time (pass <c>TimeProvider.GetUtcNow()</c>).</param>
    /// <param name="host">When set, the leaf must have a DNS (or IP) SAN that matches it; the CN is ignored.</param>
    /// <param name="options">Required usages and time handling.</param>
    public static ChainVerificationResult Verify(
        X509Certificate2 leaf,
        IEnumerable<X509Certificate2>? intermediates,
        TrustBundle anchors,
        DateTimeOffset at,
        string? host,
        ChainVerificationOptions options)
    {
        ArgumentNullException.ThrowIfNull(anchors);
        ArgumentNullException.ThrowIfNull(options);
        return VerifyCore(leaf, intermediates, anchors, at, host, options);
    }

    /// <summary>
    /// Verifies against the operating system's root store. Only for the <c>identity cert verify</c> command
    /// without <c>--roots</c> (step's behaviour); the server and client must use explicit anchors.
    /// </summary>
    public static ChainVerificationResult VerifyWithSystemRoots(
        X509Certificate2 leaf,
        IEnumerable<X509Certificate2>? intermediates,
        DateTimeOffset at,
        string? host = null) => VerifyCore(leaf, intermediates, anchors: null, at, host, ChainVerificationOptions.Default);

    /// <summary>
    /// Checks only that <paramref name="leaf"/> is valid for <paramref name="host"/> (DNS SANs with a
    /// left-most wildcard, or IP SANs). Returns null on success, else Go's <c>HostnameError</c> text.
    /// </summary>
    public static string? CheckHost(X509Certificate2 leaf, string host)
    {
        ArgumentNullException.ThrowIfNull(leaf);
        ArgumentNullException.ThrowIfNull(host);
        var san = leaf.Extensions.OfType<X509SubjectAlternativeNameExtension>().FirstOrDefault();
        var dnsNames = san?.EnumerateDnsNames().ToList() ?? [];
        var ips = san?.EnumerateIPAddresses().ToList() ?? [];

        var candidate = host.Length > 2 && host[0] == '[' && host[^1] == ']' ? host[1..^1] : host;
        if (IPAddress.TryParse(candidate, out var ip) && LooksLikeIpLiteral(candidate))
        {
            if (ips.Any(a => a.Equals(ip)))
            {
                return null;
            }

            return ips.Count == 0
                ? $"x509: cannot validate certificate for {host} because it doesn't contain any IP SANs"
                : $"x509: certificate is valid for {string.Join(", ", ips)}, not {host}";
        }

        if (dnsNames.Any(pattern => MatchHostname(pattern, candidate)))
        {
            return null;
        }

        if (san is null && MatchHostname(leaf.GetNameInfo(X509NameType.SimpleName, forIssuer: false), candidate))
        {
            return "x509: certificate relies on legacy Common Name field, use SANs instead";
        }

        return dnsNames.Count == 0
            ? $"x509: certificate is not valid for any names, but wanted to match {host}"
            : $"x509: certificate is valid for {string.Join(", ", dnsNames)}, not {host}";
    }

    /// <summary>
    /// Whether <paramref name="certificate"/> is self-signed: its issuer is its subject and its own key verifies
    /// its signature (ECDSA, RSA PKCS#1 or Ed25519). Chain building cannot answer this: the platform does not
    /// check the signature of a certificate it is told to trust.
    /// </summary>
    public static bool IsSelfSigned(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (!certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData))
        {
            return false;
        }

        try
        {
            return Inspection.CertificateFields.SignatureVerifiesWithOwnKey(Inspection.X509Parts.ParseCertificate(certificate.RawDataMemory));
        }
        catch (System.Formats.Asn1.AsnContentException)
        {
            return false;
        }
    }

    private static ChainVerificationResult VerifyCore(
        X509Certificate2 leaf,
        IEnumerable<X509Certificate2>? intermediates,
        TrustBundle? anchors,
        DateTimeOffset at,
        string? host,
        ChainVerificationOptions options)
    {
        ArgumentNullException.ThrowIfNull(leaf);
        var child = PathCertificate.Of(leaf);
        if (child.Problem is { } problem)
        {
            return ChainVerificationResult.Fail(ChainVerificationStatus.Invalid, problem, leaf, [leaf]);
        }

        // Go checks the leaf itself and the host name before it builds any path.
        if (child.HasUnhandledCriticalExtension)
        {
            return ChainVerificationResult.Fail(ChainVerificationStatus.Unsupported, UnhandledCriticalExtension, leaf, [leaf]);
        }

        var timeError = CheckTime(child, at, options, out var timeStatus);
        if (timeError is not null)
        {
            return ChainVerificationResult.Fail(timeStatus, timeError, leaf, [leaf]);
        }

        if (!string.IsNullOrEmpty(host))
        {
            var hostError = CheckHost(leaf, host);
            if (hostError is not null)
            {
                return ChainVerificationResult.Fail(ChainVerificationStatus.HostMismatch, hostError, leaf, [leaf]);
            }
        }

        anchors ??= SystemRoots.Value;
        if (anchors is null)
        {
            return ChainVerificationResult.Fail(ChainVerificationStatus.UnknownAuthority, UnknownAuthority(detail: null), leaf, [leaf]);
        }

        List<List<PathCertificate>> paths;
        if (anchors.Contains(leaf))
        {
            paths = [[child]];
        }
        else
        {
            var search = new PathSearch(anchors.Decoded, Decode(intermediates), at, options);
            var error = search.Extend([child]);
            if (search.Paths.Count == 0)
            {
                return error!;
            }

            paths = search.Paths;
        }

        // Like Go, paths are found first and then those whose usages do not nest are dropped.
        if (options.RequiredUsages.Count > 0)
        {
            var usable = paths.Find(path => path.TrueForAll(c => c.Permits(options.RequiredUsages)));
            if (usable is null)
            {
                var first = paths[0];
                var refusing = first.Find(c => !c.Permits(options.RequiredUsages))!;
                return ChainVerificationResult.Fail(
                    ChainVerificationStatus.IncompatibleUsage,
                    "x509: certificate specifies an incompatible key usage",
                    refusing.Certificate,
                    Certificates(first));
            }

            paths = [usable];
        }

        return new ChainVerificationResult(ChainVerificationStatus.Valid, error: null, certificate: null, Certificates(paths[0]));
    }

    private static List<PathCertificate> Decode(IEnumerable<X509Certificate2>? certificates)
    {
        var decoded = new List<PathCertificate>();
        foreach (var certificate in certificates ?? [])
        {
            // A certificate the decoders refuse cannot be anyone's issuer; Go would not have parsed it at all.
            if (PathCertificate.Of(certificate) is { Problem: null } usable)
            {
                decoded.Add(usable);
            }
        }

        return decoded;
    }

    private static X509Certificate2[] Certificates(List<PathCertificate> path) => path.ConvertAll(c => c.Certificate).ToArray();

    /// <summary>
    /// Go's <c>buildChains</c>: a depth-first search from the leaf, trying every anchor and then every intermediate
    /// whose subject is the child's issuer (those whose key identifier matches first). A candidate must verify
    /// the child's signature and be a valid issuer at that depth. Being self-issued (issuer name = subject) does
    /// not end a path: only an anchor does, so an issuer that shares its anchor's name is still looked up.
    /// </summary>
    private sealed class PathSearch(
        IReadOnlyList<PathCertificate> anchors,
        List<PathCertificate> intermediates,
        DateTimeOffset at,
        ChainVerificationOptions options)
    {
        // Go's maxChainSignatureChecks: a pool crafted with many same-named CAs cannot make a verification unbounded.
        private const int MaxSignatureChecks = 100;
        private int _signatureChecks;

        public List<List<PathCertificate>> Paths { get; } = [];

        /// <summary>Adds every complete path that extends <paramref name="path"/>; returns Go's error when none does.</summary>
        public ChainVerificationResult? Extend(List<PathCertificate> path)
        {
            var child = path[^1];
            var found = Paths.Count;
            ChainVerificationResult? error = null;
            ChainVerificationResult? hint = null;
            foreach (var (candidate, isAnchor) in Parents(child))
            {
                if (path.Exists(c => c.SameSubjectAndKey(candidate)))
                {
                    continue;
                }

                if (++_signatureChecks > MaxSignatureChecks)
                {
                    error = ChainVerificationResult.Fail(
                        ChainVerificationStatus.Invalid,
                        "x509: signature check attempts limit reached while verifying certificate chain",
                        child.Certificate,
                        Certificates(path));
                    break;
                }

                // A CA whose KeyUsage leaves out keyCertSign is refused as Go's CheckSignatureFrom refuses it; a
                // certificate that is no CA at all gets the plainer reason from CheckIssuer below.
                if (!candidate.MaySignCertificates && candidate.IsCa)
                {
                    hint ??= ChainVerificationResult.Fail(
                        ChainVerificationStatus.UnknownAuthority,
                        UnknownAuthority(
                            $"possibly because of \"x509: invalid signature: parent certificate cannot sign this kind of certificate\" while trying to verify candidate authority certificate {Quote(candidate.Certificate)}"),
                        child.Certificate,
                        Certificates(path));
                    continue;
                }

                if (!child.IsSignedBy(candidate))
                {
                    hint ??= ChainVerificationResult.Fail(
                        ChainVerificationStatus.BadSignature,
                        UnknownAuthority(
                            $"possibly because of \"signature verification failed\" while trying to verify candidate authority certificate {Quote(candidate.Certificate)}"),
                        child.Certificate,
                        Certificates(path));
                    continue;
                }

                // As in Go, a candidate that is no valid issuer here replaces the error so far: that reason
                // (expired, not a CA, path too long) is more use to the reader than "unknown authority".
                error = CheckIssuer(candidate, isAnchor, path);
                if (error is not null)
                {
                    continue;
                }

                if (isAnchor)
                {
                    Paths.Add([.. path, candidate]);
                }
                else
                {
                    error = Extend([.. path, candidate]);
                }
            }

            if (Paths.Count > found)
            {
                return null;
            }

            return error ?? hint ?? ChainVerificationResult.Fail(
                ChainVerificationStatus.UnknownAuthority, UnknownAuthority(detail: null), child.Certificate, Certificates(path));
        }

        /// <summary>
        /// Go's <c>findPotentialParents</c>: anchors then intermediates whose subject is the child's issuer, those
        /// whose key identifier matches the child's authority key identifier first, then those where one of the two
        /// is missing. A candidate whose key identifier contradicts the child's is not tried (as the platform and
        /// Go before 1.19 do), so a foreign root that merely shares the name is an unknown authority.
        /// </summary>
        private IEnumerable<(PathCertificate Candidate, bool IsAnchor)> Parents(PathCertificate child)
        {
            foreach (var anchor in Named(anchors, child))
            {
                yield return (anchor, true);
            }

            foreach (var intermediate in Named(intermediates, child))
            {
                yield return (intermediate, false);
            }
        }

        private static IEnumerable<PathCertificate> Named(IReadOnlyList<PathCertificate> pool, PathCertificate child)
        {
            return pool
                .Where(c => c.Problem is null && c.Subject.Span.SequenceEqual(child.Issuer.Span))
                .Select(c => (Candidate: c, Rank: KeyIdRank(c, child)))
                .Where(c => c.Rank < 2)
                .OrderBy(c => c.Rank)
                .Select(c => c.Candidate);
        }

        private static int KeyIdRank(PathCertificate candidate, PathCertificate child) =>
            (candidate.SubjectKeyId, child.AuthorityKeyId) switch
            {
                (null, null) => 0,
                ({ } ski, { } aki) when ski.AsSpan().SequenceEqual(aki) => 0,
                (null, _) or (_, null) => 1,
                _ => 2,
            };

        /// <summary>Go's <c>isValid</c> for a root or intermediate below which <paramref name="path"/> hangs.</summary>
        private ChainVerificationResult? CheckIssuer(PathCertificate candidate, bool isAnchor, List<PathCertificate> path)
        {
            // The path is copied out only for a refusal: a candidate that passes costs no allocation here.
            X509Certificate2[] Chain() => Certificates([.. path, candidate]);
            if (candidate.HasUnhandledCriticalExtension)
            {
                return ChainVerificationResult.Fail(ChainVerificationStatus.Unsupported, UnhandledCriticalExtension, candidate.Certificate, Chain());
            }

            if (CheckTime(candidate, at, options, out var status) is { } timeError)
            {
                return ChainVerificationResult.Fail(status, timeError, candidate.Certificate, Chain());
            }

            // Go accepts a version 1 root (no extensions at all) as an anchor; every other issuer must say CA:TRUE.
            var legacyRoot = isAnchor && candidate.Parts.Version < 3;
            if (!legacyRoot && CheckCa(candidate, intermediatesBelow: path.Count - 1, out status) is { } caError)
            {
                return ChainVerificationResult.Fail(status, caError, candidate.Certificate, Chain());
            }

            if (candidate.Constraints is { } constraints)
            {
                foreach (var below in path)
                {
                    if (below.AlternativeNames is { } names && constraints.Check(names) is { } reason)
                    {
                        return ChainVerificationResult.Fail(
                            ChainVerificationStatus.Invalid,
                            "x509: a root or intermediate certificate is not authorized to sign for this name: " + reason,
                            candidate.Certificate,
                            Chain());
                    }
                }
            }

            return null;
        }
    }

    private static string UnknownAuthority(string? detail) =>
        detail is null
            ? "x509: certificate signed by unknown authority"
            : $"x509: certificate signed by unknown authority ({detail})";

    private static string Quote(X509Certificate2 certificate)
    {
        var name = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        return "\"" + (string.IsNullOrEmpty(name) ? certificate.Subject : name) + "\"";
    }

    private static string? CheckTime(PathCertificate certificate, DateTimeOffset at, ChainVerificationOptions options, out ChainVerificationStatus status)
    {
        if (options.IgnoreTimeValidity)
        {
            status = ChainVerificationStatus.Valid;
            return null;
        }

        var now = at.ToUniversalTime();
        var notBefore = certificate.Parts.NotBefore;
        var notAfter = certificate.Parts.NotAfter;
        if (now < notBefore)
        {
            status = ChainVerificationStatus.NotYetValid;
            return $"x509: certificate has expired or is not yet valid: current time {GoTime.Rfc3339(now)} is before {GoTime.Rfc3339(notBefore)}";
        }

        if (now > notAfter)
        {
            status = ChainVerificationStatus.Expired;
            return $"x509: certificate has expired or is not yet valid: current time {GoTime.Rfc3339(now)} is after {GoTime.Rfc3339(notAfter)}";
        }

        status = ChainVerificationStatus.Valid;
        return null;
    }

    private static string? CheckCa(PathCertificate issuer, int intermediatesBelow, out ChainVerificationStatus status)
    {
        if (!issuer.HasBasicConstraints || !issuer.IsCa)
        {
            status = ChainVerificationStatus.NotCertificateAuthority;
            return "x509: certificate is not authorized to sign other certificates";
        }

        if (issuer.MaxPathLength >= 0 && intermediatesBelow > issuer.MaxPathLength)
        {
            status = ChainVerificationStatus.PathLengthExceeded;
            return "x509: too many intermediates for path length constraint";
        }

        status = ChainVerificationStatus.Valid;
        return null;
    }

    private static bool LooksLikeIpLiteral(string value) =>
        value.Contains(':', StringComparison.Ordinal) || value.All(c => char.IsAsciiDigit(c) || c == '.');

    /// <summary>Go's <c>matchHostnames</c>: case-insensitive, a wildcard only as the whole left-most label.</summary>
    internal static bool MatchHostname(string pattern, string host)
    {
        pattern = pattern.TrimEnd('.');
        host = host.TrimEnd('.');
        if (pattern.Length == 0 || host.Length == 0)
        {
            return false;
        }

        var patternLabels = pattern.Split('.');
        var hostLabels = host.Split('.');
        if (patternLabels.Length != hostLabels.Length)
        {
            return false;
        }

        for (var i = 0; i < patternLabels.Length; i++)
        {
            if (i == 0 && patternLabels[i] == "*" && hostLabels[i].Length > 0)
            {
                continue;
            }

            if (!string.Equals(patternLabels[i], hostLabels[i], StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        return true;
    }
}
