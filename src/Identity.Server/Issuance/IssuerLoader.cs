using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

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
}

/// <summary>
/// Reads and validates the issuer the way linkerd-identity does (key/cert match, chain to the anchors with Go's
/// default serverAuth usage, IsCA, time validity). BCL-only on purpose: kept small so the shared Identity.Pki
/// APIs can replace it.
/// </summary>
internal static class IssuerLoader
{
    private static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");

    public static IssuerFiles Read(IdentityServerOptions options)
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
        var anchors = ParseCertificates(files.Anchors, "Failed to read trust anchors");
        var certs = ParseCertificates(files.Certificate, "failed to read CA from disk");
        var key = ParseKey(files.Key);
        try
        {
            var issuer = certs[0];
            if (!PublicKeysMatch(issuer, key))
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
            return new IssuerSnapshot(issuer, [.. certs.Skip(1)], anchors, key, chainNotBefore, chainNotAfter,
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
            ? $"is after {Rfc3339(snapshot.ChainNotAfter)}"
            : $"is before {Rfc3339(snapshot.ChainNotBefore)}";
        return $"x509: certificate has expired or is not yet valid: current time {Rfc3339(now)} {relation}"
            + $" - Current Time : {Rfc3339(now)} - Invalid before {Rfc3339(snapshot.ChainNotBefore)} - Invalid After {Rfc3339(snapshot.ChainNotAfter)}";
    }

    public static string Rfc3339(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    private static (DateTimeOffset NotBefore, DateTimeOffset NotAfter) Verify(
        X509Certificate2 issuer, IEnumerable<X509Certificate2> extra, X509Certificate2Collection anchors, DateTimeOffset now, string expectedName)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(anchors);
        foreach (var c in extra)
        {
            chain.ChainPolicy.ExtraStore.Add(c);
        }

        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.VerificationTime = now.UtcDateTime;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        chain.ChainPolicy.ApplicationPolicy.Add(ServerAuth);
        if (!chain.Build(issuer))
        {
            var problems = chain.ChainStatus.Select(s => DescribeStatus(s, now, issuer)).Distinct();
            throw new IssuerLoadException(
                $"failed to verify issuer credentials for '{expectedName}' with trust anchors: {string.Join("; ", problems)}");
        }

        var elements = chain.ChainElements.Select(e => e.Certificate).ToList();
        return (elements.Max(c => new DateTimeOffset(c.NotBefore.ToUniversalTime())),
            elements.Min(c => new DateTimeOffset(c.NotAfter.ToUniversalTime())));
    }

    private static string DescribeStatus(X509ChainStatus status, DateTimeOffset now, X509Certificate2 issuer) => status.Status switch
    {
        X509ChainStatusFlags.NotTimeValid =>
            $"x509: certificate has expired or is not yet valid: current time {Rfc3339(now)}, issuer valid from {Rfc3339(issuer.NotBefore.ToUniversalTime())} to {Rfc3339(issuer.NotAfter.ToUniversalTime())}",
        X509ChainStatusFlags.UntrustedRoot or X509ChainStatusFlags.PartialChain => "x509: certificate signed by unknown authority",
        X509ChainStatusFlags.NotValidForUsage or X509ChainStatusFlags.InvalidPolicyConstraints =>
            "x509: certificate specifies an incompatible key usage",
        _ => status.StatusInformation.Trim(),
    };

    private static bool PublicKeysMatch(X509Certificate2 cert, AsymmetricAlgorithm key)
    {
        var certSpki = cert.PublicKey.ExportSubjectPublicKeyInfo();
        var keySpki = key switch
        {
            ECDsa e => e.ExportSubjectPublicKeyInfo(),
            RSA r => r.ExportSubjectPublicKeyInfo(),
            _ => [],
        };
        return certSpki.AsSpan().SequenceEqual(keySpki);
    }

    /// <summary>PEM CERTIFICATE blocks in order; like Go, a non-certificate block ends the list.</summary>
    internal static X509Certificate2Collection ParseCertificates(byte[] pem, string prefix)
    {
        var text = Encoding.ASCII.GetString(pem);
        var result = new X509Certificate2Collection();
        var rest = text.AsSpan();
        while (PemEncoding.TryFind(rest, out var fields))
        {
            if (!rest[fields.Label].SequenceEqual("CERTIFICATE"))
            {
                break;
            }

            try
            {
                result.Add(X509CertificateLoader.LoadCertificate(Convert.FromBase64String(rest[fields.Base64Data].ToString())));
            }
            catch (CryptographicException e)
            {
                throw new IssuerLoadException($"{prefix}: x509: malformed certificate: {e.Message}", e);
            }

            rest = rest[fields.Location.End.Value..];
        }

        if (result.Count == 0)
        {
            throw new IssuerLoadException($"{prefix}: not a PEM certificate");
        }

        return result;
    }

    /// <summary>Only the first PEM block is read, as in Linkerd: SEC1, PKCS#1 or unencrypted PKCS#8 (EC or RSA).</summary>
    internal static AsymmetricAlgorithm ParseKey(byte[] pem)
    {
        var text = Encoding.ASCII.GetString(pem);
        if (!PemEncoding.TryFind(text, out var fields))
        {
            throw new IssuerLoadException("failed to read CA from disk: no PEM block found in the key file");
        }

        var label = text[fields.Label];
        var der = Convert.FromBase64String(text[fields.Base64Data]);
        try
        {
            switch (label)
            {
                case "EC PRIVATE KEY":
                    {
                        var ec = ECDsa.Create();
                        ec.ImportECPrivateKey(der, out _);
                        return ec;
                    }

                case "RSA PRIVATE KEY":
                    {
                        var rsa = RSA.Create();
                        rsa.ImportRSAPrivateKey(der, out _);
                        return rsa;
                    }

                case "PRIVATE KEY":
                    {
                        var ec = ECDsa.Create();
                        try
                        {
                            ec.ImportPkcs8PrivateKey(der, out _);
                            return ec;
                        }
                        catch (CryptographicException)
                        {
                            ec.Dispose();
                        }

                        var rsa = RSA.Create();
                        try
                        {
                            rsa.ImportPkcs8PrivateKey(der, out _);
                            return rsa;
                        }
                        catch (CryptographicException)
                        {
                            rsa.Dispose();
                            throw new IssuerLoadException(
                                "failed to read CA from disk: unsupported PKCS#8 encoded private key type, only ECDSA and RSA private keys are supported");
                        }
                    }

                default:
                    throw new IssuerLoadException($"failed to read CA from disk: unsupported block type: '{label}'");
            }
        }
        catch (CryptographicException e)
        {
            throw new IssuerLoadException($"failed to read CA from disk: malformed {label}: {e.Message}", e);
        }
    }
}
