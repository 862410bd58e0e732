using System.Collections.Immutable;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Identity.Pki;
using Identity.Pki.Certificates;
using Identity.Pki.Keys;
using Identity.Pki.Pem;
using Identity.Pki.Time;
using Identity.Pki.Verification;
using Identity.Pki.X509;

namespace Identity.Server.Issuance;

/// <summary>Raised when issuer credentials or anchors cannot be read or do not validate; the message is for operators.</summary>
internal sealed class IssuerLoadException : Exception
{
    public IssuerLoadException(string message)
        : base(message)
    {
    }

    public IssuerLoadException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public IssuerLoadException()
    {
    }
}

/// <summary>The raw bytes of the three inputs, read together so the hash and the parse see the same content.</summary>
internal sealed record IssuerFiles(byte[] Certificate, byte[] Key, byte[] Anchors)
{
    public string ContentHash()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var part in new[] { Certificate, Key, Anchors })
        {
            hash.AppendData(BitConverter.GetBytes(part.Length));
            hash.AppendData(part);
        }

        return Convert.ToHexString(hash.GetHashAndReset());
    }

    public bool SameContent(IssuerFiles other) =>
        Certificate.AsSpan().SequenceEqual(other.Certificate) && Key.AsSpan().SequenceEqual(other.Key) && Anchors.AsSpan().SequenceEqual(other.Anchors);
}

/// <summary>
/// Reads and validates the issuer the way linkerd-identity does (key/cert match, chain to the anchors with Go's
/// default serverAuth usage, IsCA, time validity), plus the P-256 curve rule of Linkerd's install validation.
/// The rules and their texts are <see cref="LinkerdIssuerRules"/>', shared with <c>identity check</c>; this runs at
/// reload time only, never on the Certify path.
/// </summary>
internal static class IssuerLoader
{
    public static IssuerFiles Read(IdentityServerOptions options) => ReadConsistent(() => ReadOnce(options));

    /// <summary>
    /// The watcher fires while the kubelet is still swapping <c>..data</c> (and an operator may copy files one
    /// by one), so a single pass can see the old issuer's certificate with the new issuer's key: a state nobody
    /// wrote, which would be reported as a bad issuer. Two equal passes in a row are taken as a state on disk; an
    /// unsettled read is returned as it is and left to validation and the next event.
    /// </summary>
    internal static IssuerFiles ReadConsistent(Func<IssuerFiles> readOnce, int maxPasses = 5)
    {
        var previous = readOnce();
        for (var pass = 1; pass < maxPasses; pass++)
        {
            var next = readOnce();
            if (next.SameContent(previous))
            {
                return next;
            }

            previous = next;
        }

        return previous;
    }

    private static IssuerFiles ReadOnce(IdentityServerOptions options)
    {
        var (crtName, keyName) = options.IssuerFileNames;
        return new IssuerFiles(
            ReadFile(Path.Combine(options.IssuerDirectory, crtName), "failed to read CA from disk"),
            ReadFile(Path.Combine(options.IssuerDirectory, keyName), "failed to read CA from disk"),
            ReadFile(options.TrustAnchorsFile, "could not read identity trust anchors PEM"));
    }

    private static byte[] ReadFile(string path, string prefix)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IssuerLoadException($"{prefix}: {e.Message}", e);
        }
    }

    public static IssuerSnapshot Load(IssuerFiles files, IdentityServerOptions options, DateTimeOffset now)
    {
        var (crtName, keyName) = options.IssuerFileNames;
        var anchors = ParseCertificates(files.Anchors, options.TrustAnchorsFile, "Failed to read trust anchors");
        var certs = ParseCertificates(files.Certificate, Path.Combine(options.IssuerDirectory, crtName), "failed to read CA from disk");
        var key = ParseKey(files.Key, Path.Combine(options.IssuerDirectory, keyName));
        try
        {
            var issuer = certs[0];
            if (LinkerdIssuerRules.KeyMismatch(issuer, key) is { } mismatch)
            {
                throw new IssuerLoadException($"failed to read CA from disk: {mismatch}");
            }

            var expectedName = $"identity.{options.ControllerNamespace}.{options.TrustDomain}";
            var (chainNotBefore, chainNotAfter) = Verify(issuer, certs.Skip(1), anchors, now, expectedName);
            if (LinkerdIssuerRules.NotCertificateAuthority(issuer) is { } notCa)
            {
                throw new IssuerLoadException($"failed to verify issuer certificate: {notCa}");
            }

            // Linkerd's controller loads a P-521 issuer and proxies then refuse every leaf it signs; refuse it here
            // with the words of Linkerd's install validation instead.
            if (LinkerdIssuerRules.IssuerCurveProblem(issuer) is { } curve)
            {
                throw new IssuerLoadException($"failed to validate issuer credentials: {curve}");
            }

            var firstExpiration = certs.Min(c => new DateTimeOffset(c.NotAfter.ToUniversalTime()));
            // The snapshot owns the platform key from here on (disposing the wrapper would dispose it too).
            AsymmetricAlgorithm signer = key switch
            {
                EcPrivateKey ec => ec.Key,
                RsaPrivateKey rsa => rsa.Key,
                _ => throw new UnreachableException("ParseKey admits EC and RSA keys only"),
            };
            return new IssuerSnapshot(issuer, [.. certs.Skip(1)], anchors, signer, chainNotBefore, chainNotAfter,
                firstExpiration, files.ContentHash());
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Validity of the chain at a given time, phrased like Go's x509 error so operators' searches still match.
    /// Null when valid.
    /// </summary>
    public static string? CheckValidity(IssuerSnapshot snapshot, DateTimeOffset now)
    {
        if (now >= snapshot.ChainNotBefore && now <= snapshot.ChainNotAfter)
        {
            return null;
        }

        var relation = now > snapshot.ChainNotAfter
            ? $"is after {GoTime.Rfc3339(snapshot.ChainNotAfter)}"
            : $"is before {GoTime.Rfc3339(snapshot.ChainNotBefore)}";
        return $"x509: certificate has expired or is not yet valid: current time {GoTime.Rfc3339(now)} {relation}"
            + $" - Current Time : {GoTime.Rfc3339(now)} - Invalid before {GoTime.Rfc3339(snapshot.ChainNotBefore)} - Invalid After {GoTime.Rfc3339(snapshot.ChainNotAfter)}";
    }

    private static (DateTimeOffset NotBefore, DateTimeOffset NotAfter) Verify(
        X509Certificate2 issuer, IEnumerable<X509Certificate2> extra, X509Certificate2Collection anchors, DateTimeOffset now, string expectedName)
    {
        var result = LinkerdIssuerRules.VerifyChain(issuer, extra, TrustBundle.FromCertificates(anchors), now);
        if (!result.IsValid)
        {
            throw new IssuerLoadException($"failed to verify issuer credentials for '{expectedName}' with trust anchors: {result.Error}");
        }

        return (result.Chain.Max(c => new DateTimeOffset(c.NotBefore.ToUniversalTime())),
            result.Chain.Min(c => new DateTimeOffset(c.NotAfter.ToUniversalTime())));
    }

    /// <summary>The issuer file's or the anchors' leading certificates, read by <see cref="LinkerdIssuerRules"/>.</summary>
    internal static X509Certificate2Collection ParseCertificates(byte[] pem, string source, string prefix)
    {
        try
        {
            var certificates = LinkerdIssuerRules.DecodeCertificates(Encoding.ASCII.GetString(pem), source);
            return certificates.Count > 0
                ? [.. certificates]
                : throw new IssuerLoadException($"{prefix}: not a PEM certificate");
        }
        catch (PkiException e)
        {
            throw new IssuerLoadException($"{prefix}: {e.Message}", e);
        }
    }

    /// <summary>The issuer key, read by <see cref="LinkerdIssuerRules"/> (the first PEM block only, as in Linkerd).</summary>
    internal static PrivateKey ParseKey(byte[] pem, string source)
    {
        try
        {
            return LinkerdIssuerRules.DecodeKey(Encoding.ASCII.GetString(pem), source);
        }
        catch (PkiException e)
        {
            throw new IssuerLoadException($"failed to read CA from disk: {e.Message}", e);
        }
    }
}
