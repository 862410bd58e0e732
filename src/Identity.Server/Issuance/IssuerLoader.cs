using System.Collections.Immutable;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Identity.Pki;
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
/// default serverAuth usage, IsCA, time validity) with Linkerd's error texts. PEM and key decoding are Identity.Pki's;
/// this runs at reload time only, never on the Certify path.
/// </summary>
internal static class IssuerLoader
{
    private static readonly ChainVerificationOptions RequireServerAuth = new() { RequiredUsages = ["1.3.6.1.5.5.7.3.1"] };

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
            if (!key.Matches(issuer))
            {
                throw new IssuerLoadException("failed to read CA from disk: tls: Public and private key do not match");
            }

            var expectedName = $"identity.{options.ControllerNamespace}.{options.TrustDomain}";
            var (chainNotBefore, chainNotAfter) = Verify(issuer, certs.Skip(1), anchors, now, expectedName);
            if (issuer.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault() is not { CertificateAuthority: true })
            {
                throw new IssuerLoadException("failed to verify issuer certificate: it must be an intermediate-CA, but it is not");
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
        // Go's x509.Verify as Linkerd calls it: roots = the anchors, intermediates = the rest of the issuer file, and
        // the default KeyUsages (serverAuth) required along the whole path.
        var result = ChainVerifier.Verify(issuer, extra, TrustBundle.FromCertificates(anchors), now, host: null, RequireServerAuth);
        if (!result.IsValid)
        {
            throw new IssuerLoadException($"failed to verify issuer credentials for '{expectedName}' with trust anchors: {result.Error}");
        }

        return (result.Chain.Max(c => new DateTimeOffset(c.NotBefore.ToUniversalTime())),
            result.Chain.Min(c => new DateTimeOffset(c.NotAfter.ToUniversalTime())));
    }

    /// <summary>
    /// PEM CERTIFICATE blocks in order; like Go's <c>DecodePEMCertificates</c>, the first block of another type ends
    /// the list. Blocks are split by Identity.Pki's <see cref="PemCodec"/>.
    /// </summary>
    internal static X509Certificate2Collection ParseCertificates(byte[] pem, string source, string prefix)
    {
        var result = new X509Certificate2Collection();
        foreach (var block in Decode(pem, source, prefix).TakeWhile(b => b.Label == PemLabels.Certificate))
        {
            var loaded = CertificateDecoder.Load(block.Der);
            result.Add(loaded.Value ?? throw new IssuerLoadException($"{prefix}: {loaded.Error}"));
        }

        if (result.Count == 0)
        {
            throw new IssuerLoadException($"{prefix}: not a PEM certificate");
        }

        return result;
    }

    /// <summary>
    /// Only the first PEM block is read, as in Linkerd: SEC1, PKCS#1 or unencrypted PKCS#8, EC or RSA. Decoding is
    /// Identity.Pki's <see cref="PrivateKeyPem"/> (the same reader the CLI uses).
    /// </summary>
    internal static PrivateKey ParseKey(byte[] pem, string source)
    {
        const string Prefix = "failed to read CA from disk";
        var blocks = Decode(pem, source, Prefix);
        if (blocks.Count == 0)
        {
            throw new IssuerLoadException($"{Prefix}: no PEM block found in the key file");
        }

        var label = blocks[0].Label;
        if (label is not (PemLabels.EcPrivateKey or PemLabels.RsaPrivateKey or PemLabels.PrivateKey))
        {
            throw new IssuerLoadException($"{Prefix}: unsupported block type: '{label}'");
        }

        PrivateKey key;
        try
        {
            // The first block is a key block, so the reader's "first private key" is exactly that block.
            key = PrivateKeyPem.Read(pem, source, password: null);
        }
        catch (PkiException e)
        {
            throw new IssuerLoadException($"{Prefix}: {e.Message}", e);
        }

        if (key.Kind is not (KeyKind.Ec or KeyKind.Rsa))
        {
            var description = key.Description;
            key.Dispose();
            throw new IssuerLoadException(
                $"{Prefix}: unsupported PKCS#8 encoded private key type: '{description}', only ECDSA and RSA private keys are supported");
        }

        return key;
    }

    private static IReadOnlyList<PemBlock> Decode(byte[] pem, string source, string prefix)
    {
        try
        {
            return PemCodec.Decode(Encoding.ASCII.GetString(pem), source);
        }
        catch (PkiException e)
        {
            throw new IssuerLoadException($"{prefix}: {e.Message}", e);
        }
    }
}
