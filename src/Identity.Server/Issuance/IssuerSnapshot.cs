using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Google.Protobuf;

namespace Identity.Server.Issuance;

/// <summary>
/// One validated issuer together with the anchors it was validated against. Never mutated after creation; the
/// store swaps whole snapshots, so a request that read one snapshot finishes with exactly that issuer.
/// </summary>
internal sealed class IssuerSnapshot
{
    public IssuerSnapshot(
        X509Certificate2 issuer,
        ImmutableArray<X509Certificate2> fileChain,
        X509Certificate2Collection anchors,
        AsymmetricAlgorithm key,
        DateTimeOffset chainNotBefore,
        DateTimeOffset chainNotAfter,
        DateTimeOffset firstExpiration,
        string contentHash)
    {
        Issuer = issuer;
        FileChain = fileChain;
        Anchors = anchors;
        Key = key;
        ChainNotBefore = chainNotBefore;
        ChainNotAfter = chainNotAfter;
        FirstExpiration = firstExpiration;
        ContentHash = contentHash;
        AuthorityKeyIdentifier = issuer.Extensions.OfType<X509SubjectKeyIdentifierExtension>().FirstOrDefault() is { } ski
            ? X509AuthorityKeyIdentifierExtension.CreateFromSubjectKeyIdentifier(ski)
            : null;
        IssuerName = issuer.SubjectName.RawData;
        EncodedAuthorityKeyIdentifier = AuthorityKeyIdentifier is null ? null : LeafIssuer.EncodeExtension(AuthorityKeyIdentifier);
        Intermediates = [ByteString.CopyFrom(issuer.RawData), .. fileChain.Select(c => ByteString.CopyFrom(c.RawData))];
        AnchorsNotAfter = anchors.Count == 0 ? DateTimeOffset.MinValue : anchors.Min(a => new DateTimeOffset(a.NotAfter.ToUniversalTime()));
    }

    /// <summary>The issuing CA certificate (first block of the issuer file).</summary>
    public X509Certificate2 Issuer { get; }

    /// <summary>The other certificates of the issuer file, in file order.</summary>
    public ImmutableArray<X509Certificate2> FileChain { get; }

    public X509Certificate2Collection Anchors { get; }

    public AsymmetricAlgorithm Key { get; }

    public X509AuthorityKeyIdentifierExtension? AuthorityKeyIdentifier { get; }

    /// <summary>The issuer's subject Name, DER: the leaves' issuer field.</summary>
    public byte[] IssuerName { get; }

    /// <summary>The AKI extension of every leaf, DER, or null when the issuer has no SKI.</summary>
    public byte[]? EncodedAuthorityKeyIdentifier { get; }

    /// <summary>Latest NotBefore over the verified chain (issuer up to its anchor).</summary>
    public DateTimeOffset ChainNotBefore { get; }

    /// <summary>Earliest NotAfter over the verified chain (issuer up to its anchor).</summary>
    public DateTimeOffset ChainNotAfter { get; }

    /// <summary>Earliest NotAfter over the issuer file: the leaf NotAfter clamp (Linkerd's firstCrtExpiration).</summary>
    public DateTimeOffset FirstExpiration { get; }

    /// <summary>Earliest NotAfter over all anchors.</summary>
    public DateTimeOffset AnchorsNotAfter { get; }

    /// <summary>SHA-256 over the certificate, key and anchors files: unchanged content means no reload.</summary>
    public string ContentHash { get; }

    /// <summary>The response's intermediate_certificates: the issuer then the rest of its file.</summary>
    public ImmutableArray<ByteString> Intermediates { get; }
}
