using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Identity.Pki.Time;

namespace Identity.Pki.Verification;

/// <summary>
/// Verifies a leaf certificate against explicit trust anchors with the platform chain engine
/// (<see cref="X509Chain"/> in <see cref="X509ChainTrustMode.CustomRootTrust"/>), revocation off, no
/// certificate downloads and a caller-supplied time. Any extended key usage is accepted (as
/// <c>step certificate verify</c> does, Go <c>KeyUsages=[Any]</c>). Failures are classified and worded like
/// Go's <c>crypto/x509</c> so the CLI matches step byte for byte.
/// </summary>
/// <remarks>
/// Path semantics follow Go: every certificate in the bundle is an anchor, self-signed or not, and the path
/// ends at the first anchor reached; when two candidate issuers share a name (old and new CA during a
/// rotation) each is tried. Signatures on paths the platform cannot complete itself are checked here
/// (ECDSA, RSA PKCS#1 and Ed25519).
/// Thread-safety: stateless; every call builds its own <see cref="X509Chain"/>. Share one
/// <see cref="TrustBundle"/> across calls (it is immutable), which keeps per-request cost to one chain build.
/// The verifier does not dispose the certificates it is given; certificates in the result are the caller's
/// own instances (leaf, intermediates, anchors).
/// </remarks>
public static class ChainVerifier
{
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
        var pool = intermediates?.ToList() ?? [];

        // The platform picks an issuer by name (and key id when present) and does not try another when the
        // signature fails. During a rotation two CAs often share a name; like Go, try the other candidates by
        // dropping the one whose key did not verify. Each retry removes a certificate, so this terminates.
        var excluded = new HashSet<X509Certificate2>(ReferenceEqualityComparer.Instance);
        while (true)
        {
            var candidatePool = excluded.Count == 0 ? pool : pool.Where(c => !excluded.Contains(c)).ToList();
            var candidateAnchors = anchors;
            if (anchors is not null && excluded.Count > 0)
            {
                var remaining = anchors.Certificates.Where(c => !excluded.Contains(c)).ToList();
                if (remaining.Count == 0)
                {
                    return ChainVerificationResult.Fail(
                        ChainVerificationStatus.UnknownAuthority, UnknownAuthority(detail: null), leaf, [leaf]);
                }

                candidateAnchors = TrustBundle.FromCertificates(remaining);
            }

            var result = VerifyOnce(leaf, candidatePool, candidateAnchors, pool, anchors, at, host, options, out var wrongIssuer);
            var removable = wrongIssuer is not null
                && (pool.Contains(wrongIssuer, ReferenceEqualityComparer.Instance)
                    || (anchors?.Certificates.Contains(wrongIssuer, ReferenceEqualityComparer.Instance) ?? false));
            if (!removable || !excluded.Add(wrongIssuer!))
            {
                return result;
            }
        }
    }

    private static ChainVerificationResult VerifyOnce(
        X509Certificate2 leaf,
        List<X509Certificate2> pool,
        TrustBundle? anchors,
        List<X509Certificate2> allIntermediates,
        TrustBundle? allAnchors,
        DateTimeOffset at,
        string? host,
        ChainVerificationOptions options,
        out X509Certificate2? wrongIssuer)
    {
        wrongIssuer = null;

        // Go checks the leaf's own validity and the host name before it builds any path.
        var timeError = CheckTime(leaf, at, options, out var timeStatus);
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

        using var chain = new X509Chain();
        var policy = chain.ChainPolicy;
        policy.RevocationMode = X509RevocationMode.NoCheck;
        policy.DisableCertificateDownloads = true;
        policy.VerificationTime = at.UtcDateTime;
        policy.VerificationTimeIgnored = false;
        if (options.IgnoreTimeValidity)
        {
            policy.VerificationFlags |= X509VerificationFlags.IgnoreNotTimeValid | X509VerificationFlags.IgnoreCtlNotTimeValid;
        }

        foreach (var usage in options.RequiredUsages)
        {
            policy.ApplicationPolicy.Add(new Oid(usage));
        }

        if (anchors is not null)
        {
            policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            policy.CustomTrustStore.AddRange(anchors.Collection);
        }

        foreach (var certificate in pool)
        {
            policy.ExtraStore.Add(certificate);
        }

        bool built;
        try
        {
            built = chain.Build(leaf);
        }
        catch (CryptographicException ex)
        {
            return ChainVerificationResult.Fail(
                ChainVerificationStatus.Unsupported,
                $"x509: cannot build certificate chain: {ex.Message}",
                leaf,
                [leaf]);
        }

        var known = new List<X509Certificate2>(pool.Count + 1) { leaf };
        known.AddRange(pool);
        if (anchors is not null)
        {
            known.AddRange(anchors.Certificates);
        }

        var path = new List<X509Certificate2>(chain.ChainElements.Count);
        var flags = new List<X509ChainStatusFlags>(chain.ChainElements.Count);
        foreach (var element in chain.ChainElements)
        {
            var original = known.FirstOrDefault(k => k.RawDataMemory.Span.SequenceEqual(element.Certificate.RawDataMemory.Span));
            if (original is not null)
            {
                element.Certificate.Dispose();
                path.Add(original);
            }
            else
            {
                // Only possible with the system store: keep the platform's instance.
                path.Add(element.Certificate);
            }

            flags.Add(element.ChainElementStatus.Aggregate(X509ChainStatusFlags.NoError, (a, s) => a | s.Status));
        }

        // Like Go, any anchor ends the path, self-signed or not: cut the path at the first anchor.
        var anchorIndex = anchors is null
            ? (path.Count > 0 && (flags[^1] & (X509ChainStatusFlags.UntrustedRoot | X509ChainStatusFlags.PartialChain)) == 0 ? path.Count - 1 : -1)
            : path.FindIndex(anchors.Contains);
        var anchored = anchorIndex >= 0;
        var truncated = anchored && anchorIndex < path.Count - 1;
        if (truncated)
        {
            path.RemoveRange(anchorIndex + 1, path.Count - anchorIndex - 1);
            flags.RemoveRange(anchorIndex + 1, flags.Count - anchorIndex - 1);
        }

        for (var i = 1; i < path.Count; i++)
        {
            var issuer = path[i];
            if (flags[i - 1].HasFlag(X509ChainStatusFlags.NotSignatureValid))
            {
                if (HasOtherSigner(path[i - 1], issuer, allIntermediates, allAnchors))
                {
                    wrongIssuer = issuer;
                }

                return ChainVerificationResult.Fail(
                    ChainVerificationStatus.BadSignature,
                    UnknownAuthority(
                        $"possibly because of \"signature verification failed\" while trying to verify candidate authority certificate {Quote(issuer)}"),
                    path[i - 1],
                    path);
            }

            timeError = CheckTime(issuer, at, options, out timeStatus);
            if (timeError is not null)
            {
                return ChainVerificationResult.Fail(timeStatus, timeError, issuer, path);
            }

            var caError = CheckCa(issuer, intermediatesBelow: i - 1, out var caStatus);
            if (caError is not null)
            {
                return ChainVerificationResult.Fail(caStatus, caError, issuer, path);
            }
        }

        if (!anchored)
        {
            // The platform stops at a certificate it does not accept as an issuer (e.g. no keyCertSign).
            // Go would have tried it as a candidate and reported why; do the same for a clear message.
            var last = path.Count > 0 ? path[^1] : leaf;
            var candidates = anchors is null ? pool : pool.Concat(anchors.Certificates);
            foreach (var candidate in candidates.Where(c => IsNamedIssuerOf(c, last)))
            {
                var error = CheckCa(candidate, intermediatesBelow: path.Count - 1, out var status);
                if (error is not null)
                {
                    return ChainVerificationResult.Fail(status, error, candidate, path);
                }
            }

            return ChainVerificationResult.Fail(
                ChainVerificationStatus.UnknownAuthority, UnknownAuthority(detail: null), last, path);
        }

        if (!built)
        {
            // The platform only trusts self-signed anchors; a path that ends at a non-self-signed anchor
            // fails there with PartialChain. Accept it when nothing else is wrong and every signature on the
            // path verifies (checked here, not assumed from the platform).
            const X509ChainStatusFlags AnchorOnly = X509ChainStatusFlags.PartialChain | X509ChainStatusFlags.UntrustedRoot;
            if (options.RequiredUsages.Count > 0)
            {
                // Go finds the paths first and then drops those whose usages do not nest: the same order here.
                var index = flags.FindIndex(f => f.HasFlag(X509ChainStatusFlags.NotValidForUsage));
                if (index < 0 && !truncated && chain.ChainStatus.Any(s => s.Status.HasFlag(X509ChainStatusFlags.NotValidForUsage)))
                {
                    index = 0;
                }

                if (index >= 0)
                {
                    return ChainVerificationResult.Fail(
                        ChainVerificationStatus.IncompatibleUsage,
                        "x509: certificate specifies an incompatible key usage",
                        path[index],
                        path);
                }
            }

            var otherProblems = flags.Any(f => (f & ~AnchorOnly) != X509ChainStatusFlags.NoError);
            int? failed = null;
            if (anchors is not null && !otherProblems && SignaturesVerify(path, out failed))
            {
                return new ChainVerificationResult(ChainVerificationStatus.Valid, error: null, certificate: null, path);
            }

            if (failed is not null)
            {
                if (HasOtherSigner(path[failed.Value], path[failed.Value + 1], allIntermediates, allAnchors))
                {
                    wrongIssuer = path[failed.Value + 1];
                }

                return ChainVerificationResult.Fail(
                    ChainVerificationStatus.BadSignature,
                    UnknownAuthority(
                        $"possibly because of \"signature verification failed\" while trying to verify candidate authority certificate {Quote(path[failed.Value + 1])}"),
                    path[failed.Value],
                    path);
            }

            var problems = chain.ChainStatus
                .Where(s => s.Status != X509ChainStatusFlags.NoError && (!truncated || (s.Status & ~AnchorOnly) != 0))
                .Select(s => s.StatusInformation.Trim())
                .Where(s => s.Length > 0)
                .Distinct(StringComparer.Ordinal)
                .ToList();
            var unsupported = chain.ChainStatus.Any(s =>
                s.Status.HasFlag(X509ChainStatusFlags.HasNotSupportedCriticalExtension)
                || s.Status.HasFlag(X509ChainStatusFlags.HasNotSupportedNameConstraint));
            return ChainVerificationResult.Fail(
                unsupported ? ChainVerificationStatus.Unsupported : ChainVerificationStatus.Invalid,
                "x509: " + (problems.Count > 0 ? string.Join("; ", problems) : "certificate chain is not valid"),
                leaf,
                path);
        }

        return new ChainVerificationResult(ChainVerificationStatus.Valid, error: null, certificate: null, path);
    }

    /// <summary>Whether a same-named certificate other than <paramref name="tried"/> verifies <paramref name="child"/>.</summary>
    private static bool HasOtherSigner(
        X509Certificate2 child,
        X509Certificate2 tried,
        List<X509Certificate2> intermediates,
        TrustBundle? anchors)
    {
        var childParts = Inspection.X509Parts.ParseCertificate(child.RawDataMemory);
        var candidates = anchors is null ? intermediates : intermediates.Concat(anchors.Certificates);
        return candidates.Any(c =>
            !ReferenceEquals(c, tried)
            && !c.RawDataMemory.Span.SequenceEqual(tried.RawDataMemory.Span)
            && c.SubjectName.RawData.AsSpan().SequenceEqual(child.IssuerName.RawData)
            && Inspection.CertificateFields.VerifySignature(childParts, Inspection.X509Parts.ParseCertificate(c.RawDataMemory)) == true);
    }

    /// <summary>Checks every link of <paramref name="path"/>; on failure <paramref name="failedIndex"/> is the child.</summary>
    private static bool SignaturesVerify(List<X509Certificate2> path, out int? failedIndex)
    {
        failedIndex = null;
        var parts = path.Select(c => Inspection.X509Parts.ParseCertificate(c.RawDataMemory)).ToList();
        for (var i = 1; i < parts.Count; i++)
        {
            if (Inspection.CertificateFields.VerifySignature(parts[i - 1], parts[i]) != true)
            {
                failedIndex = i - 1;
                return false;
            }
        }

        return true;
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

    private static string? CheckTime(X509Certificate2 certificate, DateTimeOffset at, ChainVerificationOptions options, out ChainVerificationStatus status)
    {
        if (options.IgnoreTimeValidity)
        {
            status = ChainVerificationStatus.Valid;
            return null;
        }

        var now = at.ToUniversalTime();
        var notBefore = new DateTimeOffset(certificate.NotBefore.ToUniversalTime(), TimeSpan.Zero);
        var notAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);
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

    private static string? CheckCa(X509Certificate2 issuer, int intermediatesBelow, out ChainVerificationStatus status)
    {
        var constraints = issuer.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault();
        if (constraints is null || !constraints.CertificateAuthority)
        {
            status = ChainVerificationStatus.NotCertificateAuthority;
            return "x509: certificate is not authorized to sign other certificates";
        }

        if (constraints.HasPathLengthConstraint && intermediatesBelow > constraints.PathLengthConstraint)
        {
            status = ChainVerificationStatus.PathLengthExceeded;
            return "x509: too many intermediates for path length constraint";
        }

        status = ChainVerificationStatus.Valid;
        return null;
    }

    private static bool IsNamedIssuerOf(X509Certificate2 candidate, X509Certificate2 subject)
    {
        if (!candidate.SubjectName.RawData.AsSpan().SequenceEqual(subject.IssuerName.RawData))
        {
            return false;
        }

        var aki = subject.Extensions.OfType<X509AuthorityKeyIdentifierExtension>().FirstOrDefault()?.KeyIdentifier;
        var ski = candidate.Extensions.OfType<X509SubjectKeyIdentifierExtension>().FirstOrDefault()?.SubjectKeyIdentifierBytes;
        return aki is null || ski is null || aki.Value.Span.SequenceEqual(ski.Value.Span);
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
